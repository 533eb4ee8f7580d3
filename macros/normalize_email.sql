{#- The canonical form of an email address as typed: trimmed and lowercased. -#}
{% macro normalize_email(expression) -%}
    nullif(lower(trim({{ expression }})), '')
{%- endmacro %}
