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
