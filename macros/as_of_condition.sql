{#- A boolean SQL condition: `column` is at or before the `as_of` var (the log's clock, the load
    time; checked and converted to UTC by as_of_timestamp), or `true` when no `as_of` is set.
    Every model that reads the log's clock goes through it. -#}
{% macro as_of_condition(column) -%}
    {%- set as_of = as_of_timestamp() -%}
    {%- if as_of is none -%}
        true
    {%- else -%}
        {{ column }} <= cast('{{ as_of }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
