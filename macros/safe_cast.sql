{#- Cast that never raises: NULL when the value does not fit the type. Every value read from a
    producer's JSON goes through it, so no line, however odd, can fail a build. dbt's own
    `dbt.safe_cast` is a plain CAST on DuckDB and Spark (it raises). -#}
{% macro safe_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('safe_cast', 'shoplog')(expression, data_type)) }}
{%- endmacro %}

{% macro default__safe_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
