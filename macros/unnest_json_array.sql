{#- Select-list items that expand a JSON array text column into one row per element:
    `element_alias` (the element as JSON text) and `position_alias` (1-based position). -#}
{% macro unnest_json_array(column, element_alias, position_alias) -%}
    {{ return(adapter.dispatch('unnest_json_array', 'shoplog')(column, element_alias, position_alias)) }}
{%- endmacro %}

{% macro default__unnest_json_array(column, element_alias, position_alias) -%}
    posexplode(from_json({{ column }}, 'array<string>')) as ({{ position_alias }}, {{ element_alias }})
{%- endmacro %}

{% macro duckdb__unnest_json_array(column, element_alias, position_alias) -%}
    unnest(cast(json_extract({{ column }}, '$[*]') as varchar[])) as {{ element_alias }},
    generate_subscripts(cast(json_extract({{ column }}, '$[*]') as varchar[]), 1) as {{ position_alias }}
{%- endmacro %}
