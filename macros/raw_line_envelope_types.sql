{#- The (name, JSON path) pairs whose JSON types the parse checks (the envelope). -#}
{% macro raw_line_envelope_types() -%}
{%- set envelope_types = [
    ('document', '$'),
    ('event_id', '$.event_id'),
    ('event_type', '$.event_type'),
    ('schema_version', '$.schema_version'),
    ('source', '$.source'),
    ('event_time', '$.event_time'),
    ('received_at', '$.received_at'),
] -%}
{{ return(envelope_types) }}
{%- endmacro %}
