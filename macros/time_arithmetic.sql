{#- Calendar days from date `start_date` to date `end_date` (end minus start). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'shoplog')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{#- Whole seconds from timestamp `start_at` to timestamp `end_at` (truncated, not rounded up,
    on every engine; dbt.datediff rounds up on Spark). -#}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'shoplog')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__seconds_between(start_at, end_at) -%}
    ((unix_micros({{ end_at }}) - unix_micros({{ start_at }})) div 1000000)
{%- endmacro %}

{% macro duckdb__seconds_between(start_at, end_at) -%}
    cast(floor(epoch({{ end_at }}) - epoch({{ start_at }})) as bigint)
{%- endmacro %}

{#- The start of the `minutes`-minute tumbling window that timestamp `ts` falls in (windows
    aligned on the Unix epoch). -#}
{% macro floor_to_minutes(ts, minutes) -%}
    {{ return(adapter.dispatch('floor_to_minutes', 'shoplog')(ts, minutes)) }}
{%- endmacro %}

{% macro default__floor_to_minutes(ts, minutes) -%}
    timestamp_seconds(floor(unix_seconds({{ ts }}) / {{ minutes * 60 }}) * {{ minutes * 60 }})
{%- endmacro %}

{% macro duckdb__floor_to_minutes(ts, minutes) -%}
    time_bucket(interval '{{ minutes }} minutes', {{ ts }})
{%- endmacro %}

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
