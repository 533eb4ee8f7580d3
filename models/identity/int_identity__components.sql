-- Grain: one row per identifier, with the connected component of the identity graph it belongs
-- to (edges used for merging only). Components are computed by
-- var('identity_propagation_steps') unrolled steps of min-label propagation (macro
-- label_propagation_ctes); the label is the identifier_rank, so a component's label is the
-- rank of its earliest identifier in the log (its root). is_converged is false where one more
-- step would still change the label: a data test fails the build then (raise the var).
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

{{ label_propagation_ctes('graph_nodes', 'graph_edges', var('identity_propagation_steps')) }}

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
