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
