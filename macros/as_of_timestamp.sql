{#- The `as_of` var as a UTC timestamp literal ('YYYY-MM-DD HH:MM:SS.ffffff'), or none when it
    is unset. An ISO-8601 date or timestamp is accepted; an offset or `Z` is converted to UTC
    (a naive value is taken as UTC); anything else fails the compile with a clear message, so
    no text reaches SQL unchecked. -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none or as_of == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = as_of | string | trim -%}
    {%- if text.endswith('Z') or text.endswith('z') -%}
        {%- set text = text[:-1] ~ '+00:00' -%}
    {%- endif -%}
    {%- set parsed = none -%}
    {%- if modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,6})?)?([+-][0-9]{2}:?[0-9]{2})?)?$', text) -%}
        {%- set parsed = modules.datetime.datetime.fromisoformat(text) -%}
    {%- endif -%}
    {%- if parsed is none -%}
        {{ exceptions.raise_compiler_error(
            "as_of must be an ISO-8601 timestamp such as '2026-01-15 00:00:00' or "
            ~ "'2026-01-15T02:00:00+02:00' (UTC unless an offset is given); got: " ~ as_of
        ) }}
    {%- endif -%}
    {%- if parsed.tzinfo is not none -%}
        {%- set parsed = parsed.astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
    {%- endif -%}
    {{ return(parsed.strftime('%Y-%m-%d %H:%M:%S.%f')) }}
{%- endmacro %}
