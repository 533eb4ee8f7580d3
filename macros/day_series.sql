{#- Select-list item: one row per day from `start_date` to `end_date` (date expressions,
    both inclusive), as `alias`; the arguments may be columns, so each row gets its own range. -#}
{% macro day_series(start_date, end_date, alias) -%}
    {{ return(adapter.dispatch('day_series', 'shoplog')(start_date, end_date, alias)) }}
{%- endmacro %}

{% macro default__day_series(start_date, end_date, alias) -%}
    explode(sequence({{ start_date }}, {{ end_date }}, interval 1 day)) as {{ alias }}
{%- endmacro %}

{% macro duckdb__day_series(start_date, end_date, alias) -%}
    cast(unnest(generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date) as {{ alias }}
{%- endmacro %}
