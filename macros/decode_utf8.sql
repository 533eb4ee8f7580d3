{#- The text of a BLOB of UTF-8 bytes; NULL when the bytes are not valid UTF-8 (never raises,
    never substitutes U+FFFD). The raw log keeps each line's bytes; this is how it is read. -#}
{% macro decode_utf8(column) -%}
    {{ return(adapter.dispatch('decode_utf8', 'shoplog')(column)) }}
{%- endmacro %}

{% macro default__decode_utf8(column) -%}
    try_validate_utf8(cast({{ column }} as string))
{%- endmacro %}

{% macro duckdb__decode_utf8(column) -%}
    try(decode({{ column }}))
{%- endmacro %}
