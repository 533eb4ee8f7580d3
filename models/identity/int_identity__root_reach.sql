{#- The loop is the point of this model: minimax ("bottleneck") reachability by propagation,
    unrolled var('identity_propagation_steps') times in plain joins and group by (any engine,
    no recursive CTE). Step k holds, for every candidate and every node within distance k, the
    earliest time they were connected; one more step checks convergence. Self loops (linked_at
    null) keep each step to one read of the previous one. -#}
{%- set steps = var('identity_propagation_steps') %}
-- Grain: one row per (root candidate, identifier of its component): every identifier that could
-- have been the root (earliest identifier) of its person when it first appeared in the log, i.e.
-- one not linked to an earlier identifier by an edge received together with it, paired with each
-- identifier the graph connects it to, and the earliest log time the growing graph connected the
-- two: the minimum over paths of the latest edge time on the path (the candidate's own row has
-- its first load time). Bounded minimax propagation (var('identity_propagation_steps') steps)
-- with a convergence flag, over the edges used for
-- merging (the shared-device guard decides each edge when it arrives, so the graph only grows
-- with the log's clock). The log's clock (loaded_at) is used throughout, so the table replays
-- and time-travels: identifiers and edges loaded together arrive together (no build could tell
-- them apart in time).
with

identifiers as (
    select
        identifier_key,
        identifier_type,
        identifier_value,
        identifier_rank,
        first_loaded_at
    from {{ ref('int_identity__identifiers') }}
),

edges as (
    select
        identifier_key_a,
        identifier_key_b,
        first_loaded_at
    from {{ ref('int_identity__edges') }}
    where is_used_for_merging
),

graph_nodes as (
    select identifier_key as node_key
    from identifiers
),

graph_edges as (
    select
        identifier_key_a as node_a,
        identifier_key_b as node_b,
        first_loaded_at as linked_at
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
            and identifiers.first_loaded_at = directed_edges.linked_at
    inner join identifiers as neighbours
        on
            directed_edges.to_node = neighbours.identifier_key
            and identifiers.identifier_rank > neighbours.identifier_rank
),

candidates as (
    select
        identifiers.identifier_key as source_key,
        identifiers.first_loaded_at as seen_at
    from identifiers
    left join born_attached on identifiers.identifier_key = born_attached.identifier_key
    where born_attached.identifier_key is null
),

reach_edges as (
    -- both directions of every edge, and a self loop per node
    select
        from_node,
        to_node,
        linked_at
    from directed_edges
    union all
    select
        node_key as from_node,
        node_key as to_node,
        cast(null as timestamp) as linked_at
    from graph_nodes
),

reach_step_0 as (
    select
        source_key as node_key,
        source_key,
        seen_at as connected_at
    from candidates
),
{% for step in range(1, steps + 2) %}
reach_step_{{ step }} as (
    select
        reach_edges.to_node as node_key,
        reach_step_{{ step - 1 }}.source_key,
        min(greatest(
            reach_step_{{ step - 1 }}.connected_at,
            coalesce(reach_edges.linked_at, reach_step_{{ step - 1 }}.connected_at)
        )) as connected_at
    from reach_step_{{ step - 1 }}
    inner join reach_edges
        on reach_step_{{ step - 1 }}.node_key = reach_edges.from_node
    group by reach_edges.to_node, reach_step_{{ step - 1 }}.source_key
),
{% endfor %}
reach_reach as (
    select
        reach_step_{{ steps + 1 }}.node_key,
        reach_step_{{ steps + 1 }}.source_key,
        reach_step_{{ steps }}.connected_at,
        reach_step_{{ steps + 1 }}.connected_at as connected_at_after_next_step
    from reach_step_{{ steps + 1 }}
    left join reach_step_{{ steps }}
        on
            reach_step_{{ steps + 1 }}.node_key = reach_step_{{ steps }}.node_key
            and reach_step_{{ steps + 1 }}.source_key = reach_step_{{ steps }}.source_key
),

final as (
    select
        roots.identifier_key as root_identifier_key,
        roots.identifier_type as root_identifier_type,
        roots.identifier_value as root_identifier_value,
        roots.identifier_rank as root_identifier_rank,
        roots.first_loaded_at as root_first_loaded_at,
        reached.identifier_key,
        reached.identifier_type,
        reached.identifier_value,
        reached.identifier_rank,
        reach_reach.connected_at,
        coalesce(reach_reach.connected_at = reach_reach.connected_at_after_next_step, false) as is_converged
    from reach_reach
    inner join identifiers as roots on reach_reach.source_key = roots.identifier_key
    inner join identifiers as reached on reach_reach.node_key = reached.identifier_key
)

select * from final
