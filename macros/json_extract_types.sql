{#- The JSON type names (VARCHAR, BIGINT, UBIGINT, DOUBLE, BOOLEAN, OBJECT, ARRAY, NULL) of
    several paths of one JSON text column, as a list; NULL where a path is absent. On engines
    without a JSON type function the type is inferred from the extracted text. -#}
{% macro json_extract_types(column, paths) -%}
    {{ return(adapter.dispatch('json_extract_types', 'shoplog')(column, paths)) }}
{%- endmacro %}

{% macro default__json_extract_types(column, paths) -%}
    array({%- for path in paths %}
        case
            when get_json_object({{ column }}, '{{ path }}') is null then null
            when get_json_object({{ column }}, '{{ path }}') rlike '^-?[0-9]+$' then 'BIGINT'
            else 'VARCHAR'
        end{{ "," if not loop.last }}
    {%- endfor %})
{%- endmacro %}

{% macro duckdb__json_extract_types(column, paths) -%}
    json_type({{ column }}, [{%- for path in paths %}'{{ path }}'{{ ", " if not loop.last }}{%- endfor %}])
{%- endmacro %}
