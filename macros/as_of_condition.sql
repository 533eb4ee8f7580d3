{#- A boolean SQL condition: `column` is at or before the `as_of` var (the log's clock), or
    `true` when no `as_of` is set. Every model that reads the log's clock goes through it. -#}
{% macro as_of_condition(column) -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none or as_of == '' -%}
        true
    {%- else -%}
        {{ column }} <= cast('{{ as_of }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
