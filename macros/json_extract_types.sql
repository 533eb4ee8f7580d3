{#- The JSON type names (VARCHAR, BIGINT, UBIGINT, DOUBLE, BOOLEAN, OBJECT, ARRAY, NULL) of
    several paths of one JSON text column, as a list (NULL where a path is absent), parsing the
    document once; or, when `paths` is a string, the type at that one path, a SQL expression
    (e.g. a column holding a path). On engines without a JSON type function the type is
    inferred from the extracted text. -#}
{% macro json_extract_types(column, paths) -%}
    {{ return(adapter.dispatch('json_extract_types', 'shoplog')(column, paths)) }}
{%- endmacro %}

{% macro default__json_extract_types(column, paths) -%}
    {%- set path_expressions = [paths] if paths is string else [] -%}
    {%- if paths is not string %}{% for p in paths %}{% do path_expressions.append("'" ~ p ~ "'") %}{% endfor %}{% endif -%}
    {%- if paths is not string %}array({% endif -%}
    {%- for path in path_expressions %}
        case
            when get_json_object({{ column }}, {{ path }}) is null then null
            when get_json_object({{ column }}, {{ path }}) rlike '^-?[0-9]+$' then 'BIGINT'
            when get_json_object({{ column }}, {{ path }}) rlike '^-?[0-9.eE+-]+$' then 'DOUBLE'
            when get_json_object({{ column }}, {{ path }}) rlike '^\\[' then 'ARRAY'
            when get_json_object({{ column }}, {{ path }}) rlike '^\\{' then 'OBJECT'
            else 'VARCHAR'
        end{{ "," if not loop.last }}
    {%- endfor %}
    {%- if paths is not string %}){% endif -%}
{%- endmacro %}

{% macro duckdb__json_extract_types(column, paths) -%}
    {%- if paths is string -%}
    json_type({{ column }}, {{ paths }})
    {%- else -%}
    json_type({{ column }}, [{%- for path in paths %}'{{ path }}'{{ ", " if not loop.last }}{%- endfor %}])
    {%- endif -%}
{%- endmacro %}
