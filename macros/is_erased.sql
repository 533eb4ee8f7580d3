{#- A condition, true when a person asked to be forgotten: `value` is a person key, or, with
    `identifier_type` (a SQL expression, e.g. "'anonymous_id'"), an identifier of that type
    (int_identity__erased_identifiers). How marts, features and the customer snapshot leave
    erased persons out. -#}
{% macro is_erased(value, identifier_type=none) -%}
    exists (
        select 1 from {{ ref('int_identity__erased_identifiers') }} as erased
        where
            {%- if identifier_type is none %}
            erased.person_key = {{ value }}
            {%- else %}
            erased.identifier_type = {{ identifier_type }}
            and erased.identifier_value = {{ value }}
            {%- endif %}
    )
{%- endmacro %}
