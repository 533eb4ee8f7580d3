{#- True when a text column holds a JSON document as RFC 8259 defines it. DuckDB's reader also
    accepts trailing commas and NaN/Infinity; those lines are refused here: outside string
    literals (stripped first, only for lines that could hold such text) no `,]`, `,}`, `nan`
    or `inf` may remain. -#}
{% macro json_is_valid(column) -%}
    {{ return(adapter.dispatch('json_is_valid', 'shoplog')(column)) }}
{%- endmacro %}

{% macro default__json_is_valid(column) -%}
    (get_json_object({{ column }}, '$') is not null)
{%- endmacro %}

{% macro duckdb__json_is_valid(column) -%}
    {%- set lenient = "'(?i),\\s*[\\]}]|nan|inf'" -%}
    case
        when not coalesce(json_valid({{ column }}), false) then false
        when not regexp_matches({{ column }}, {{ lenient }}) then true
        else not regexp_matches(
            regexp_replace({{ column }}, '"(?:[^"\\]|\\.)*"', '""', 'g'), {{ lenient }}
        )
    end
{%- endmacro %}
