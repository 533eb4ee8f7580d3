{#- Minimax ("bottleneck") reachability by bounded propagation: for every source node and every
    node of its component, the earliest log time at which the two were connected, i.e. the
    minimum over paths of the latest edge time on the path. Emits CTEs like
    label_propagation_ctes; `<prefix>_reach` has (node_key, source_key, connected_at,
    connected_at_after_next_step), null connected_at where step N had not reached the node yet.
    `nodes` has (node_key), `sources` has (source_key, seen_at), `edges` has
    (node_a, node_b, linked_at). Self loops (linked_at null) keep each step to one read of the
    previous step. -#}
{% macro bottleneck_propagation_ctes(nodes, sources, edges, iterations, prefix='reach') -%}
{{ prefix }}_edges as (
    select
        node_a as from_node,
        node_b as to_node,
        linked_at
    from {{ edges }}
    union all
    select
        node_b as from_node,
        node_a as to_node,
        linked_at
    from {{ edges }}
    union all
    select
        node_key as from_node,
        node_key as to_node,
        cast(null as timestamp) as linked_at
    from {{ nodes }}
),

{{ prefix }}_step_0 as (
    select
        source_key as node_key,
        source_key,
        seen_at as connected_at
    from {{ sources }}
),
{% for step in range(1, iterations + 2) %}
{{ prefix }}_step_{{ step }} as (
    select
        {{ prefix }}_edges.to_node as node_key,
        {{ prefix }}_step_{{ step - 1 }}.source_key,
        min(greatest(
            {{ prefix }}_step_{{ step - 1 }}.connected_at,
            coalesce({{ prefix }}_edges.linked_at, {{ prefix }}_step_{{ step - 1 }}.connected_at)
        )) as connected_at
    from {{ prefix }}_step_{{ step - 1 }}
    inner join {{ prefix }}_edges
        on {{ prefix }}_step_{{ step - 1 }}.node_key = {{ prefix }}_edges.from_node
    group by {{ prefix }}_edges.to_node, {{ prefix }}_step_{{ step - 1 }}.source_key
),
{% endfor %}
{{ prefix }}_reach as (
    select
        {{ prefix }}_step_{{ iterations + 1 }}.node_key,
        {{ prefix }}_step_{{ iterations + 1 }}.source_key,
        {{ prefix }}_step_{{ iterations }}.connected_at,
        {{ prefix }}_step_{{ iterations + 1 }}.connected_at as connected_at_after_next_step
    from {{ prefix }}_step_{{ iterations + 1 }}
    left join {{ prefix }}_step_{{ iterations }}
        on
            {{ prefix }}_step_{{ iterations + 1 }}.node_key = {{ prefix }}_step_{{ iterations }}.node_key
            and {{ prefix }}_step_{{ iterations + 1 }}.source_key = {{ prefix }}_step_{{ iterations }}.source_key
),
{%- endmacro %}
