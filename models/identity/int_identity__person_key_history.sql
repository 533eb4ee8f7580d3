-- Grain: one row per identifier that could have been the root (earliest identifier) of its
-- person at the moment it first appeared in the log, i.e. every identifier not linked to an
-- earlier one by an edge received together with it. For each: when its own person key was
-- issued (its first received_at) and when it stopped being the root, because the growing graph
-- first connected it to an earlier identifier: the minimum over paths to earlier candidates of
-- the latest edge time on the path (bounded minimax propagation, macro
-- bottleneck_propagation_ctes, var('identity_propagation_steps') steps, with a convergence flag).
-- The log's clock (received_at) is used throughout, so the history replays and time-travels.
with

identifiers as (
    select
        identifier_key,
        identifier_type,
        identifier_value,
        identifier_rank,
        first_received_at
    from {{ ref('int_identity__identifiers') }}
    where not is_merge_blocked
),

edges as (
    select
        identifier_key_a,
        identifier_key_b,
        first_received_at
    from {{ ref('int_identity__edges') }}
    where is_used_for_merging
),

person_map as (
    select
        identifier_type,
        identifier_value,
        person_key
    from {{ ref('int_identity__person_map') }}
),

graph_nodes as (
    select identifier_key as node_key
    from identifiers
),

graph_edges as (
    select
        identifier_key_a as node_a,
        identifier_key_b as node_b,
        first_received_at as linked_at
    from edges
),

directed_edges as (
    select
        node_a as from_node,
        node_b as to_node,
        linked_at
    from graph_edges
    union all
    select
        node_b as from_node,
        node_a as to_node,
        linked_at
    from graph_edges
),

born_attached as (
    -- identifiers that arrived already linked to an earlier identifier: never a root
    select distinct identifiers.identifier_key
    from identifiers
    inner join directed_edges
        on
            identifiers.identifier_key = directed_edges.from_node
            and identifiers.first_received_at = directed_edges.linked_at
    inner join identifiers as neighbours
        on
            directed_edges.to_node = neighbours.identifier_key
            and identifiers.identifier_rank > neighbours.identifier_rank
),

candidates as (
    select
        identifiers.identifier_key as source_key,
        identifiers.first_received_at as seen_at
    from identifiers
    left join born_attached on identifiers.identifier_key = born_attached.identifier_key
    where born_attached.identifier_key is null
),

{{ bottleneck_propagation_ctes('graph_nodes', 'candidates', 'graph_edges', var('identity_propagation_steps')) }}

superseded as (
    -- for each candidate: the first time it was connected to an earlier candidate
    select
        reach_reach.node_key as identifier_key,
        min(
            case when sources.identifier_rank < targets.identifier_rank then reach_reach.connected_at end
        ) as superseded_at,
        min(
            case
                when
                    reach_reach.connected_at is null
                    or reach_reach.connected_at != reach_reach.connected_at_after_next_step
                    then 0
                else 1
            end
        ) = 1 as is_converged
    from reach_reach
    inner join identifiers as sources on reach_reach.source_key = sources.identifier_key
    inner join identifiers as targets on reach_reach.node_key = targets.identifier_key
    group by reach_reach.node_key
),

final as (
    select
        {{ hash_key(['identifiers.identifier_type', 'identifiers.identifier_value']) }} as person_key,
        identifiers.identifier_type as root_identifier_type,
        identifiers.identifier_value as root_identifier_value,
        identifiers.first_received_at as issued_at,
        superseded.superseded_at,
        person_map.person_key as current_person_key,
        superseded.superseded_at is null as is_current,
        coalesce(superseded.superseded_at > identifiers.first_received_at, true) as was_issued,
        superseded.is_converged
    from candidates
    inner join identifiers on candidates.source_key = identifiers.identifier_key
    inner join superseded on candidates.source_key = superseded.identifier_key
    inner join person_map
        on
            identifiers.identifier_type = person_map.identifier_type
            and identifiers.identifier_value = person_map.identifier_value
)

select * from final
