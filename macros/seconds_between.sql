{#- Whole seconds from timestamp `start_at` to timestamp `end_at` (truncated, not rounded up,
    on every engine; dbt.datediff rounds up on Spark). -#}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'shoplog')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__seconds_between(start_at, end_at) -%}
    ((unix_micros({{ end_at }}) - unix_micros({{ start_at }})) div 1000000)
{%- endmacro %}

{% macro duckdb__seconds_between(start_at, end_at) -%}
    cast(floor(epoch({{ end_at }}) - epoch({{ start_at }})) as bigint)
{%- endmacro %}
