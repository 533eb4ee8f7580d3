{#- The 1-based `index`-th element of a list/array expression, on any engine. -#}
{% macro list_element(list_expression, index) -%}
    {{ return(adapter.dispatch('list_element', 'shoplog')(list_expression, index)) }}
{%- endmacro %}

{% macro default__list_element(list_expression, index) -%}
    element_at({{ list_expression }}, {{ index }})
{%- endmacro %}

{% macro duckdb__list_element(list_expression, index) -%}
    {{ list_expression }}[{{ index }}]
{%- endmacro %}
