-- Grain: one row per identifier of a person who asked to be forgotten: every identifier the
-- person map puts with an account or email named by a deletion request, with the person's key
-- and when the first request for the person reached the log. Marts, features and the customer
-- snapshot leave these out (or blank them, for orders).
with

requests as (
    select
        user_id,
        email_hash,
        received_at
    from {{ ref('stg_privacy__deletion_requests') }}
),

person_map as (
    select
        identifier_type,
        identifier_value,
        person_key
    from {{ ref('int_identity__person_map') }}
),

named_identifiers as (
    select
        'user_id' as identifier_type,
        user_id as identifier_value,
        received_at
    from requests
    where user_id is not null
    union all
    select
        'email_hash' as identifier_type,
        email_hash as identifier_value,
        received_at
    from requests
    where email_hash is not null
),

erased_persons as (
    select
        person_map.person_key,
        min(named_identifiers.received_at) as erasure_requested_at
    from named_identifiers
    inner join person_map
        on
            named_identifiers.identifier_type = person_map.identifier_type
            and named_identifiers.identifier_value = person_map.identifier_value
    group by person_map.person_key
),

final as (
    select
        person_map.identifier_type,
        person_map.identifier_value,
        person_map.person_key,
        erased_persons.erasure_requested_at
    from person_map
    inner join erased_persons on person_map.person_key = erased_persons.person_key
)

select * from final
