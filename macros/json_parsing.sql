{#- Extract several JSON paths from one JSON text column as a list of strings, parsing the
    document once (DuckDB's list form of json_extract_string is ~4x faster than one call per
    path). Index the result with list_element(); elements are NULL where a path is absent.
    When `paths` is a string, the text at that one path, a SQL expression (e.g. a column). -#}
{% macro json_extract_texts(column, paths) -%}
    {{ return(adapter.dispatch('json_extract_texts', 'shoplog')(column, paths)) }}
{%- endmacro %}

{% macro default__json_extract_texts(column, paths) -%}
    {%- if paths is string -%}
    get_json_object({{ column }}, {{ paths }})
    {%- else -%}
    array({%- for path in paths %}get_json_object({{ column }}, '{{ path }}'){{ "," if not loop.last }}{%- endfor %})
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__json_extract_texts(column, paths) -%}
    {%- if paths is string -%}
    json_extract_string({{ column }}, {{ paths }})
    {%- else -%}
    json_extract_string({{ column }}, [{%- for path in paths %}'{{ path }}'{{ ", " if not loop.last }}{%- endfor %}])
    {%- endif -%}
{%- endmacro %}

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

{#- The 1-based `index`-th element of a list/array expression, on any engine. -#}
{% macro list_element(list_expression, index) -%}
    {{ return(adapter.dispatch('list_element', 'shoplog')(list_expression, index)) }}
{%- endmacro %}

{% macro default__list_element(list_expression, index) -%}
    element_at({{ list_expression }}, {{ index }})
{%- endmacro %}

{% macro duckdb__list_element(list_expression, index) -%}
    {{ list_expression }}[{{ index }}]
{%- endmacro %}

{#- Higher-order list functions, for checks that run over a short list per row (a line's
    property rules, an order's lines) without fanning rows out and joining them back.
    `list_map(list, 'x', body)`: each element as `x` mapped through the SQL expression `body`;
    `list_keep(list, 'x', condition)`: the elements for which `condition` holds; `list_least`:
    the smallest non-null element (NULL for an empty list). -#}
{% macro list_map(list_expression, parameter, body) -%}
    {{ return(adapter.dispatch('list_map', 'shoplog')(list_expression, parameter, body)) }}
{%- endmacro %}

{% macro default__list_map(list_expression, parameter, body) -%}
    transform({{ list_expression }}, {{ parameter }} -> {{ body }})
{%- endmacro %}

{% macro duckdb__list_map(list_expression, parameter, body) -%}
    list_transform({{ list_expression }}, lambda {{ parameter }}: {{ body }})
{%- endmacro %}

{% macro list_keep(list_expression, parameter, condition) -%}
    {{ return(adapter.dispatch('list_keep', 'shoplog')(list_expression, parameter, condition)) }}
{%- endmacro %}

{% macro default__list_keep(list_expression, parameter, condition) -%}
    filter({{ list_expression }}, {{ parameter }} -> {{ condition }})
{%- endmacro %}

{% macro duckdb__list_keep(list_expression, parameter, condition) -%}
    list_filter({{ list_expression }}, lambda {{ parameter }}: {{ condition }})
{%- endmacro %}

{% macro list_least(list_expression) -%}
    {{ return(adapter.dispatch('list_least', 'shoplog')(list_expression)) }}
{%- endmacro %}

{% macro default__list_least(list_expression) -%}
    array_min({{ list_expression }})
{%- endmacro %}

{% macro duckdb__list_least(list_expression) -%}
    list_min({{ list_expression }})
{%- endmacro %}

{#- The elements of a JSON array text column as a list of JSON texts. -#}
{% macro json_array_items(column) -%}
    {{ return(adapter.dispatch('json_array_items', 'shoplog')(column)) }}
{%- endmacro %}

{% macro default__json_array_items(column) -%}
    from_json({{ column }}, 'array<string>')
{%- endmacro %}

{% macro duckdb__json_array_items(column) -%}
    cast(json_extract({{ column }}, '$[*]') as varchar[])
{%- endmacro %}

{#- Select-list items that expand a JSON array text column into one row per element:
    `element_alias` (the element as JSON text) and `position_alias` (1-based position). -#}
{% macro unnest_json_array(column, element_alias, position_alias) -%}
    {{ return(adapter.dispatch('unnest_json_array', 'shoplog')(column, element_alias, position_alias)) }}
{%- endmacro %}

{% macro default__unnest_json_array(column, element_alias, position_alias) -%}
    posexplode(from_json({{ column }}, 'array<string>')) as ({{ position_alias }}, {{ element_alias }})
{%- endmacro %}

{% macro duckdb__unnest_json_array(column, element_alias, position_alias) -%}
    unnest({{ json_array_items(column) }}) as {{ element_alias }},
    generate_subscripts({{ json_array_items(column) }}, 1) as {{ position_alias }}
{%- endmacro %}

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

{#- Cast that never raises: NULL when the value does not fit the type. Every value read from a
    producer's JSON goes through it, so no line, however odd, can fail a build. dbt's own
    `dbt.safe_cast` is a plain CAST on DuckDB and Spark (it raises). -#}
{% macro safe_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('safe_cast', 'shoplog')(expression, data_type)) }}
{%- endmacro %}

{% macro default__safe_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
