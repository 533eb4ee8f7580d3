{#- The canonical form of an email address as typed: lowercased, with every kind of leading
    and trailing whitespace removed (ASCII and Unicode spaces, tabs, line breaks, the byte order
    mark); NULL when nothing is left. -#}
{% macro normalize_email(expression) -%}
    nullif(lower(regexp_replace({{ expression }}, '^[\s\p{Z}\x{feff}]+|[\s\p{Z}\x{feff}]+$', '', 'g')), '')
{%- endmacro %}
