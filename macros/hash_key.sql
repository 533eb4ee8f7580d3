{#- A deterministic key derived from content: the md5 of the given expressions, each cast to
    text, NULL written as an empty marker, joined with a separator that cannot be confused. -#}
{% macro hash_key(expressions) -%}
    md5(concat(
        {%- for expression in expressions %}
        coalesce(cast({{ expression }} as {{ dbt.type_string() }}), '<null>'){{ ", '|'," if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}
