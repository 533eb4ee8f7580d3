{#- The loop is the point of this model: connected components by min-label propagation,
    unrolled var('identity_propagation_steps') times in plain joins and group by (any engine, no
    recursive CTE). After k steps every node holds the minimum label within distance k of it,
    so the var must be at least the largest component's diameter; one more step checks it.
    Each step reads the previous one once, so the steps stay a linear chain. -#}
{%- set steps = var('identity_propagation_steps') %}
-- Grain: one row per identifier, with the connected component of the identity graph it belongs
-- to (edges used for merging only). The label is the identifier_rank, so a component's label
-- is the rank of its earliest identifier in the log (its root). is_converged is false where one
-- more step would still change the label: a data test warns then (raise the var).
with

identifiers as (
    select
        identifier_key,
        identifier_type,
        identifier_value,
        identifier_rank
    from {{ ref('int_identity__identifiers') }}
),

edges as (
    select
        identifier_key_a,
        identifier_key_b
    from {{ ref('int_identity__edges') }}
    where is_used_for_merging
),

graph_nodes as (
    select
        identifier_key as node_key,
        identifier_rank as node_label
    from identifiers
),

graph_edges as (
    select
        identifier_key_a as node_a,
        identifier_key_b as node_b
    from edges
),

propagation_edges as (
    -- both directions of every edge, and a self loop per node
    select
        node_a as from_node,
        node_b as to_node
    from graph_edges
    union all
    select
        node_b as from_node,
        node_a as to_node
    from graph_edges
    union all
    select
        node_key as from_node,
        node_key as to_node
    from graph_nodes
),

propagation_step_0 as (
    select
        node_key,
        node_label
    from graph_nodes
),
{% for step in range(1, steps + 2) %}
propagation_step_{{ step }} as (
    select
        propagation_edges.to_node as node_key,
        min(propagation_step_{{ step - 1 }}.node_label) as node_label
    from propagation_step_{{ step - 1 }}
    inner join propagation_edges
        on propagation_step_{{ step - 1 }}.node_key = propagation_edges.from_node
    group by propagation_edges.to_node
),
{% endfor %}
propagation_labels as (
    -- the label after the last step, and after one more (the convergence check)
    select
        propagation_step_{{ steps }}.node_key,
        propagation_step_{{ steps }}.node_label,
        propagation_step_{{ steps + 1 }}.node_label as label_after_next_step
    from propagation_step_{{ steps }}
    inner join propagation_step_{{ steps + 1 }}
        on propagation_step_{{ steps }}.node_key = propagation_step_{{ steps + 1 }}.node_key
),

final as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.identifier_rank,
        propagation_labels.node_label as component_rank,
        roots.identifier_key as root_identifier_key,
        roots.identifier_type as root_identifier_type,
        roots.identifier_value as root_identifier_value,
        propagation_labels.node_label = propagation_labels.label_after_next_step as is_converged
    from identifiers
    inner join propagation_labels on identifiers.identifier_key = propagation_labels.node_key
    inner join identifiers as roots on propagation_labels.node_label = roots.identifier_rank
)

select * from final
