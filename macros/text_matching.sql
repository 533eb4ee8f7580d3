{#- A condition: `value` matches the regular expression `pattern` anywhere (both SQL
    expressions), case-insensitively; null when either is null. -#}
{% macro regex_matches_ignoring_case(value, pattern) -%}
    {{ return(adapter.dispatch('regex_matches_ignoring_case', 'shoplog')(value, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches_ignoring_case(value, pattern) -%}
    {{ value }} rlike concat('(?i)', {{ pattern }})
{%- endmacro %}

{% macro duckdb__regex_matches_ignoring_case(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }}, 'i')
{%- endmacro %}
