-- Grain: one row per identifier and period during which it belonged to one person key, from
-- valid_from to valid_to (log times; valid_to exclusive, null while current). The key of an
-- identifier at log time t is the key of the earliest identifier (lowest identifier_rank) the
-- graph had connected it to by t (int_identity__root_reach), i.e. the person key a build as of t
-- gives it; a period starts each time the growing graph connects it to an earlier root.
-- Point-in-time consumers (feat_person_daily) take the key of the period covering their time.
with

root_reach as (
    select
        identifier_key,
        identifier_type,
        identifier_value,
        root_identifier_rank,
        connected_at
    from {{ ref('int_identity__root_reach') }}
    where connected_at is not null
),

identifiers as (
    select
        identifier_type,
        identifier_value,
        identifier_rank
    from {{ ref('int_identity__identifiers') }}
),

earliest_root_by_time as (
    -- per identifier and connection time: the earliest root connected at that time
    select
        identifier_key,
        identifier_type,
        identifier_value,
        connected_at,
        min(root_identifier_rank) as root_identifier_rank
    from root_reach
    group by identifier_key, identifier_type, identifier_value, connected_at
),

with_previous_best as (
    select
        earliest_root_by_time.*,
        min(earliest_root_by_time.root_identifier_rank) over (
            partition by earliest_root_by_time.identifier_key
            order by earliest_root_by_time.connected_at
            rows between unbounded preceding and 1 preceding
        ) as previous_root_identifier_rank
    from earliest_root_by_time
),

root_changes as (
    -- the times an earlier root than any before was connected: the key changed
    select *
    from with_previous_best
    where previous_root_identifier_rank is null or root_identifier_rank < previous_root_identifier_rank
),

periods as (
    select
        root_changes.identifier_key,
        root_changes.identifier_type,
        root_changes.identifier_value,
        roots.identifier_type as root_identifier_type,
        roots.identifier_value as root_identifier_value,
        root_changes.connected_at as valid_from,
        lead(root_changes.connected_at) over (
            partition by root_changes.identifier_key
            order by root_changes.connected_at
        ) as valid_to
    from root_changes
    inner join identifiers as roots on root_changes.root_identifier_rank = roots.identifier_rank
),

final as (
    select
        {{ hash_key(['identifier_type', 'identifier_value', 'valid_from']) }} as period_key,
        identifier_type,
        identifier_value,
        {{ person_key('root_identifier_type', 'root_identifier_value') }} as person_key,
        root_identifier_type,
        root_identifier_value,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from periods
)

select * from final
