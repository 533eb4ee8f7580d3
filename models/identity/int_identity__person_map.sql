-- Grain: one row per identifier (identifier_type, identifier_value) seen in the log, with the
-- person it belongs to. A person is a connected component of the identity graph; its key is
-- the hash of the component's earliest identifier in the log (by first load time, then first
-- received_at within that load, then type, then value), so it does not change when unrelated
-- data arrives, only when two persons merge (see int_identity__person_key_merges). An
-- identifier blocked by the shared-device guard stays with the person its links from before the
-- block gave it.
with

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

components as (
    select * from {{ ref('int_identity__components') }}
),

resolved as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.first_loaded_at,
        identifiers.last_loaded_at,
        identifiers.first_received_at,
        identifiers.last_received_at,
        identifiers.is_merge_blocked,
        case when identifiers.is_merge_blocked then 'guarded' else 'graph' end as resolution_method,
        components.root_identifier_key,
        components.root_identifier_type,
        components.root_identifier_value
    from identifiers
    inner join components on identifiers.identifier_key = components.identifier_key
),

person_accounts as (
    -- the person's account: its earliest user_id (a person has one in practice)
    select
        root_identifier_key,
        identifier_value as user_id
    from (
        select
            resolved.root_identifier_key,
            resolved.identifier_value,
            row_number() over (
                partition by resolved.root_identifier_key
                order by resolved.first_loaded_at, resolved.first_received_at, resolved.identifier_value
            ) as account_rank
        from resolved
        where resolved.identifier_type = 'user_id'
    ) as ranked_accounts
    where account_rank = 1
),

final as (
    select
        resolved.identifier_type,
        resolved.identifier_value,
        {{ person_key('resolved.root_identifier_type', 'resolved.root_identifier_value') }} as person_key,
        person_accounts.user_id,
        resolved.first_seen_at,
        resolved.last_seen_at,
        resolved.first_loaded_at,
        resolved.last_loaded_at,
        resolved.first_received_at,
        resolved.last_received_at,
        resolved.root_identifier_type,
        resolved.root_identifier_value,
        resolved.resolution_method,
        resolved.is_merge_blocked
    from resolved
    left join person_accounts on resolved.root_identifier_key = person_accounts.root_identifier_key
)

select * from final
