-- Grain: one row per person (person_key) resolved by the identity graph: every identifier seen
-- in the log belongs to exactly one person, except persons who asked to be forgotten. Only
-- counts and hashed identifiers, no raw PII.
with

person_map as (
    -- persons who asked to be forgotten are left out
    select * from {{ ref('int_identity__person_map') }} as person_map
    where not {{ is_erased('person_map.person_key') }}
),

key_merges as (
    select * from {{ ref('int_identity__person_key_merges') }}
),

persons as (
    select
        person_key,
        min(user_id) as user_id,
        min(root_identifier_type) as root_identifier_type,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        min(first_loaded_at) as first_loaded_at,
        min(first_received_at) as first_received_at,
        count(*) as identifier_count,
        count(case when identifier_type = 'anonymous_id' then 1 end) as anonymous_id_count,
        count(case when identifier_type = 'email_hash' then 1 end) as email_count,
        count(case when identifier_type = 'payment_customer_id' then 1 end) as payment_customer_id_count
    from person_map
    group by person_key
),

merge_counts as (
    select
        new_person_key as person_key,
        count(*) as merged_key_count,
        max(merged_at) as last_merged_at
    from key_merges
    group by new_person_key
),

final as (
    select
        persons.person_key,
        persons.user_id,
        persons.root_identifier_type,
        persons.first_seen_at,
        persons.last_seen_at,
        persons.first_loaded_at,
        persons.first_received_at,
        merge_counts.last_merged_at,
        persons.identifier_count,
        persons.anonymous_id_count,
        persons.email_count,
        persons.payment_customer_id_count,
        persons.user_id is not null as is_registered,
        coalesce(merge_counts.merged_key_count, 0) as merged_key_count
    from persons
    left join merge_counts on persons.person_key = merge_counts.person_key
)

select * from final
