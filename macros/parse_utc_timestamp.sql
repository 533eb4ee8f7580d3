{#- Parse an ISO-8601 text (with `Z` or a UTC offset) into a UTC timestamp without time zone;
    NULL when it does not parse. Offsets are applied, not dropped. -#}
{% macro parse_utc_timestamp(text_expression) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'shoplog')(text_expression)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(text_expression) -%}
    try_to_timestamp({{ text_expression }})
{%- endmacro %}

{% macro duckdb__parse_utc_timestamp(text_expression) -%}
    (try_cast({{ text_expression }} as timestamptz) at time zone 'UTC')
{%- endmacro %}
