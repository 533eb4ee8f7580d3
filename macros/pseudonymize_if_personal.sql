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
