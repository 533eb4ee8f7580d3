-- Grain: one row per identifier of a person who asked to be forgotten: every identifier the
-- person map puts with the account named by a deletion request (or, when it names none, its
-- email, unless that email is shared and blocked by the guard), with the person's key and when
-- the first request for the person reached the log. Marts, features and the customer snapshot
-- leave these out (or blank them, for orders). The person is resolved with the identity of the
-- build: an as_of build of a time before the request sees the person as the log knew them then
-- (browsing not yet linked to the account at that time is not theirs in that build).
with

requests as (
    select
        user_id,
        email_hash,
        loaded_at
    from {{ ref('stg_privacy__deletion_requests') }}
),

person_map as (
    select
        identifier_type,
        identifier_value,
        person_key,
        is_merge_blocked
    from {{ ref('int_identity__person_map') }}
),

named_identifiers as (
    -- the account when the request names one, else the email
    select
        case when user_id is not null then 'user_id' else 'email_hash' end as identifier_type,
        coalesce(user_id, email_hash) as identifier_value,
        loaded_at
    from requests
),

erased_persons as (
    -- an email shared by several accounts (blocked by the guard) erases nobody by itself
    select
        person_map.person_key,
        min(named_identifiers.loaded_at) as erasure_requested_at
    from named_identifiers
    inner join person_map
        on
            named_identifiers.identifier_type = person_map.identifier_type
            and named_identifiers.identifier_value = person_map.identifier_value
    where not person_map.is_merge_blocked
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
