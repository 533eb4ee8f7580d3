{#- Connected components by bounded label propagation, in plain joins and group by (runs on any
    engine: no recursive CTE). Emits CTEs (no leading `with`, ends with a comma):
      `<prefix>_edges`      both directions of every edge plus a self loop per node
      `<prefix>_step_0..N`  (node_key, node_label) after k propagation steps (min label over neighbours)
      `<prefix>_labels`     (node_key, node_label, label_after_next_step): step N and one more step,
                            so a model can flag (and a test fail on) non-convergence.
    `nodes` is a relation with columns (node_key, node_label); `edges` one with (node_a, node_b).
    After k steps every node holds the minimum label within distance k, so `iterations` must be
    at least the largest component diameter; the extra step checks it. Each step reads the
    previous one once, so inlined CTEs stay linear. -#}
{% macro label_propagation_ctes(nodes, edges, iterations, prefix='propagation') -%}
{{ prefix }}_edges as (
    select
        node_a as from_node,
        node_b as to_node
    from {{ edges }}
    union all
    select
        node_b as from_node,
        node_a as to_node
    from {{ edges }}
    union all
    select
        node_key as from_node,
        node_key as to_node
    from {{ nodes }}
),

{{ prefix }}_step_0 as (
    select
        node_key,
        node_label
    from {{ nodes }}
),
{% for step in range(1, iterations + 2) %}
{{ prefix }}_step_{{ step }} as (
    select
        {{ prefix }}_edges.to_node as node_key,
        min({{ prefix }}_step_{{ step - 1 }}.node_label) as node_label
    from {{ prefix }}_step_{{ step - 1 }}
    inner join {{ prefix }}_edges
        on {{ prefix }}_step_{{ step - 1 }}.node_key = {{ prefix }}_edges.from_node
    group by {{ prefix }}_edges.to_node
),
{% endfor %}
{{ prefix }}_labels as (
    select
        {{ prefix }}_step_{{ iterations }}.node_key,
        {{ prefix }}_step_{{ iterations }}.node_label,
        {{ prefix }}_step_{{ iterations + 1 }}.node_label as label_after_next_step
    from {{ prefix }}_step_{{ iterations }}
    inner join {{ prefix }}_step_{{ iterations + 1 }}
        on {{ prefix }}_step_{{ iterations }}.node_key = {{ prefix }}_step_{{ iterations + 1 }}.node_key
),
{%- endmacro %}
