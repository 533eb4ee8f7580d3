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

{#- An identifier (anonymous_id, user_id, ...) as it is, unless a producer put an email address
    or an IP address in it: then its keyed pseudonym (an email normalised first), so it still
    joins but never shows the personal data. -#}
{% macro pseudonymize_if_personal(column) -%}
    case
        when regexp_matches({{ column }}, '@|%40')
            then {{ pseudonymize(normalize_email(column)) }}
        when regexp_matches({{ column }}, '^\s*(?:[0-9]{1,3}\.){3}[0-9]{1,3}\s*$|^\s*[0-9a-fA-F:]*:[0-9a-fA-F:]*:[0-9a-fA-F:]*\s*$')
            then {{ pseudonymize('trim(' ~ column ~ ')') }}
        else {{ column }}
    end
{%- endmacro %}

{#- The canonical form of an email address as typed: lowercased, with every kind of leading
    and trailing whitespace removed (ASCII and Unicode spaces, tabs, line breaks, the byte order
    mark); NULL when nothing is left. -#}
{% macro normalize_email(expression) -%}
    nullif(lower(regexp_replace({{ expression }}, '^[\s\p{Z}\x{feff}]+|[\s\p{Z}\x{feff}]+$', '', 'g')), '')
{%- endmacro %}

{#- Free text (a URL, path, referrer, campaign, title, user agent) with personal data replaced
    by markers: the values of query or fragment parameters that name personal data (email,
    mail, user, token, ...) become `[redacted]`, email addresses (also URL-encoded) `[email]`,
    IPv4 and IPv6 addresses `[ip]` (a dotted quad right after `name/`, a product version in a
    user agent such as `Chrome/120.0.0.0`, is kept). Text with nothing of the kind is returned
    unchanged. -#}
{% macro scrub_personal_data(text_expression) -%}
    {{ return(adapter.dispatch('scrub_personal_data', 'shoplog')(text_expression)) }}
{%- endmacro %}

{% macro default__scrub_personal_data(text_expression) -%}
    {%- set parameters = var('personal_data_parameters') | join('|') -%}
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        {{ text_expression }},
        '(?i)([?&;#](?:{{ parameters }})=)[^&;#]*', '$1[redacted]'),
        '(?i)[a-z0-9._%+-]+(?:@|%40)[a-z0-9.-]+\\.[a-z]{2,}', '[email]'),
        '(?<![0-9.]|[a-zA-Z0-9]/)(?:[0-9]{1,3}\\.){3}[0-9]{1,3}(?![0-9.])', '[ip]'),
        '(?i)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4}', '[ip]')
{%- endmacro %}

{% macro duckdb__scrub_personal_data(text_expression) -%}
    {%- set parameters = var('personal_data_parameters') | join('|') -%}
    case
        -- a cheap test first, true for every text one of the four patterns below can change:
        -- each needs an `=`, an `@` or `%40`, a digit-dot-digit, or two colons with only hex
        -- digits between them (every IPv6 form has `::` or `:h:`; `https://` has neither)
        when regexp_matches({{ text_expression }}, '[@=]|%40|[0-9]\.[0-9]|:[0-9a-fA-F]*:')
            then regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                {{ text_expression }},
                '(?i)([?&;#](?:{{ parameters }})=)[^&;#]*', '\1[redacted]', 'g'),
                '(?i)[a-z0-9._%+-]+(?:@|%40)[a-z0-9.-]+\.[a-z]{2,}', '[email]', 'g'),
                '(^|[^0-9./]|(?:^|[^a-zA-Z0-9])/)(?:[0-9]{1,3}\.){3}[0-9]{1,3}([^0-9.]|$)', '\1[ip]\2', 'g'),
                '(?i)(^|[^0-9a-z:])((?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})([^0-9a-z:]|$)', '\1[ip]\3', 'g')
        else {{ text_expression }}
    end
{%- endmacro %}

{#- A person's key: the keyed pseudonym (HMAC-SHA-256, macro pseudonymize) of the person's
    root identifier, `<type>|<value>`. Stable for a given key and log; nobody without the key
    can recompute it from identifiers a person knows. -#}
{% macro person_key(identifier_type, identifier_value) -%}
    {{ pseudonymize("concat(" ~ identifier_type ~ ", '|', " ~ identifier_value ~ ")") }}
{%- endmacro %}

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
