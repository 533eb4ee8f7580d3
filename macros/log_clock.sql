{#- A boolean SQL condition: `column` is at or before the `as_of` var (the log's clock, the load
    time; checked and converted to UTC by as_of_timestamp), or `true` when no `as_of` is set.
    Every model that reads the log's clock goes through it. -#}
{% macro as_of_condition(column) -%}
    {%- set as_of = as_of_timestamp() -%}
    {%- if as_of is none -%}
        true
    {%- else -%}
        {{ column }} <= cast('{{ as_of }}' as timestamp)
    {%- endif -%}
{%- endmacro %}

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

{#- Time travel rebuilds from the log: an incremental model cannot be appended to "as of" an
    earlier time. Called at the top of every incremental model; fails the compile with a clear
    message when `as_of` is set on an incremental run. -#}
{% macro require_full_refresh_for_as_of() -%}
    {%- if execute and is_incremental() and var('as_of', none) is not none -%}
        {{ exceptions.raise_compiler_error(
            "as_of builds rebuild from the log: run `dbt build --full-refresh --vars '{as_of: ...}'` "
            ~ "(incremental model " ~ this ~ ")"
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- The highest `load_id` in `relation` (0 when it is empty or not built yet), read when the
    model that calls it runs, as a number to write into its SQL: a literal `load_id` range is
    what lets the engine skip every raw line outside it. -#}
{% macro max_load_id(relation) -%}
    {%- set existing = load_relation(relation) if execute and relation is not none else none -%}
    {%- if existing is none -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set result = run_query("select coalesce(max(load_id), 0) from " ~ existing) -%}
    {{ return(result.columns[0].values()[0] | int) }}
{%- endmacro %}

{#- A condition: the version of a slowly changing dimension (columns valid_from, valid_to, the
    latter null while the version is current) in `relation` was in force at `at`. -#}
{% macro version_in_force(relation, at) -%}
    ({{ at }} >= {{ relation }}.valid_from and ({{ relation }}.valid_to is null or {{ at }} < {{ relation }}.valid_to))
{%- endmacro %}
