{#- A keyed pseudonym for personal data (an email, an IP, a key derived from an identifier):
    HMAC-SHA-256 under the secret key (shoplog.keys), as hex. The key reaches the engine as two
    session variables, HMAC's padded keys, set by the profile's plugin (shoplog.dbt_plugin) on
    every connection: it is never in any SQL text, log or table. Without it every run stops at
    its start (require_pseudonym_key, an on-run-start hook) rather than writing null or unkeyed
    pseudonyms. Same key and value, same pseudonym. -#}
{% macro pseudonymize(expression) -%}
    {{ return(adapter.dispatch('pseudonymize', 'shoplog')(expression)) }}
{%- endmacro %}

{% macro default__pseudonymize(expression) -%}
    {{ exceptions.raise_compiler_error(
        "keyed pseudonyms (HMAC-SHA-256 with a secret outside the project) are implemented for "
        ~ "DuckDB only; this adapter would write recomputable hashes"
    ) }}
{%- endmacro %}

{% macro duckdb__pseudonymize(expression) -%}
    sha256(
        getvariable('shoplog_hmac_outer')
        || unhex(sha256(getvariable('shoplog_hmac_inner') || encode({{ expression }})))
    )
{%- endmacro %}
