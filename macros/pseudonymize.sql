{#- A one-way pseudonym for personal data (email, ip): sha256 of the normalised value, so the
    same person still joins across systems while the raw value never leaves staging. -#}
{% macro pseudonymize(expression) -%}
    {{ return(adapter.dispatch('pseudonymize', 'shoplog')(expression)) }}
{%- endmacro %}

{% macro default__pseudonymize(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}

{% macro duckdb__pseudonymize(expression) -%}
    sha256({{ expression }})
{%- endmacro %}
