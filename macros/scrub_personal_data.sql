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
        when regexp_matches({{ text_expression }}, '[@=:]|%40|[0-9]\.[0-9]')
            then regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                {{ text_expression }},
                '(?i)([?&;#](?:{{ parameters }})=)[^&;#]*', '\1[redacted]', 'g'),
                '(?i)[a-z0-9._%+-]+(?:@|%40)[a-z0-9.-]+\.[a-z]{2,}', '[email]', 'g'),
                '(^|[^0-9./]|(?:^|[^a-zA-Z0-9])/)(?:[0-9]{1,3}\.){3}[0-9]{1,3}([^0-9.]|$)', '\1[ip]\2', 'g'),
                '(?i)(^|[^0-9a-z:])((?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})([^0-9a-z:]|$)', '\1[ip]\3', 'g')
        else {{ text_expression }}
    end
{%- endmacro %}
