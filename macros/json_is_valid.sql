{#- True when a text column holds a well-formed JSON document. -#}
{% macro json_is_valid(column) -%}
    {{ return(adapter.dispatch('json_is_valid', 'shoplog')(column)) }}
{%- endmacro %}

{% macro default__json_is_valid(column) -%}
    (get_json_object({{ column }}, '$') is not null)
{%- endmacro %}

{% macro duckdb__json_is_valid(column) -%}
    coalesce(json_valid({{ column }}), false)
{%- endmacro %}
