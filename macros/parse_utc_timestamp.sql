{#- Parse an ISO-8601 text into a UTC timestamp without time zone; NULL unless it is a full
    date and time with `Z` or a numeric UTC offset (`2026-01-05T10:11:12.345Z`,
    `2026-01-05T12:11:12+02:00`). Offsets are applied; `epoch`, `infinity`, BC years, named
    zones and dates without a time are not timestamps of the standard. -#}
{% macro parse_utc_timestamp(text_expression) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'shoplog')(text_expression)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(text_expression) -%}
    case
        when {{ text_expression }} rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$'
            then try_to_timestamp({{ text_expression }})
    end
{%- endmacro %}

{% macro duckdb__parse_utc_timestamp(text_expression) -%}
    case
        when regexp_full_match({{ text_expression }}, '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$')
            then (try_cast({{ text_expression }} as timestamptz) at time zone 'UTC')
    end
{%- endmacro %}
