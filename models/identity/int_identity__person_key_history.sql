-- Grain: one row per identifier that could have been the root (earliest identifier) of its
-- person at the moment it first appeared in the log (int_identity__root_reach). For each: when
-- its own person key was issued (its first load time) and when it stopped being the root,
-- because the growing graph first connected it to an earlier identifier (the minimax path time
-- of int_identity__root_reach). The log's clock (loaded_at) is used throughout, so the history
-- replays and time-travels; a key superseded in the load that issued it was never issued.
with

root_reach as (
    select * from {{ ref('int_identity__root_reach') }}
),

person_map as (
    select
        identifier_type,
        identifier_value,
        person_key
    from {{ ref('int_identity__person_map') }}
),

candidates as (
    -- a root candidate's own row
    select
        root_identifier_key as identifier_key,
        root_identifier_type as identifier_type,
        root_identifier_value as identifier_value,
        root_first_loaded_at as first_loaded_at
    from root_reach
    where root_identifier_key = identifier_key
),

superseded as (
    -- for each identifier: the first time it was connected to an earlier candidate
    select
        identifier_key,
        min(case when root_identifier_rank < identifier_rank then connected_at end) as superseded_at,
        min(case when is_converged then 1 else 0 end) = 1 as is_converged
    from root_reach
    group by identifier_key
),

final as (
    select
        {{ person_key('candidates.identifier_type', 'candidates.identifier_value') }} as person_key,
        candidates.identifier_type as root_identifier_type,
        candidates.identifier_value as root_identifier_value,
        candidates.first_loaded_at as issued_at,
        superseded.superseded_at,
        person_map.person_key as current_person_key,
        superseded.superseded_at is null as is_current,
        coalesce(superseded.superseded_at > candidates.first_loaded_at, true) as was_issued,
        superseded.is_converged
    from candidates
    inner join superseded on candidates.identifier_key = superseded.identifier_key
    inner join person_map
        on
            candidates.identifier_type = person_map.identifier_type
            and candidates.identifier_value = person_map.identifier_value
)

select * from final
