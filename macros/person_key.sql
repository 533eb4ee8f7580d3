{#- A person's key: the keyed pseudonym (HMAC-SHA-256, macro pseudonymize) of the person's
    root identifier, `<type>|<value>`. Stable for a given key and log; nobody without the key
    can recompute it from identifiers a person knows. -#}
{% macro person_key(identifier_type, identifier_value) -%}
    {{ pseudonymize("concat(" ~ identifier_type ~ ", '|', " ~ identifier_value ~ ")") }}
{%- endmacro %}
