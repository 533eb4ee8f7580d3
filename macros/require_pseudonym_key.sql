{#- SQL for an on-run-start hook: fails the run, before any model, when the session has no
    pseudonymisation key (the profile does not load the shoplog.dbt_plugin plugin). -#}
{% macro require_pseudonym_key() -%}
    {{ return(adapter.dispatch('require_pseudonym_key', 'shoplog')()) }}
{%- endmacro %}

{% macro default__require_pseudonym_key() -%}
    select 1
{%- endmacro %}

{% macro duckdb__require_pseudonym_key() -%}
    select
        case
            when getvariable('shoplog_hmac_inner') is null or getvariable('shoplog_hmac_outer') is null
                then error(
                    'no pseudonymisation key in this session: the profile must load the '
                    || 'shoplog.dbt_plugin plugin (profiles.yml.example), with SHOPLOG_PSEUDONYM_KEY '
                    || 'set or the key file data/pseudonym.key present (shoplog run creates it)'
                )
        end as pseudonym_key_check
{%- endmacro %}
