{#- The quarantine reason one property rule (a row of seed event_property_rules, aliased
    `rule`) gives a value, or NULL when the value passes: `missing_required_property`,
    `wrong_property_type` or `value_out_of_range` (a number outside [min_value, max_value] or
    with more than max_decimals decimals, a string not matching pattern). `value_type` is the
    value's JSON type name, `value_text` its text. -#}
{% macro property_rule_failure(value_type, value_text, rule='rules') -%}
    case
        when {{ value_type }} is null or {{ value_type }} = 'NULL'
            then case when {{ rule }}.is_required then 'missing_required_property' end
        when not (
            ({{ rule }}.json_type = 'string' and {{ value_type }} = 'VARCHAR')
            or ({{ rule }}.json_type = 'integer' and {{ value_type }} in ('BIGINT', 'UBIGINT'))
            or ({{ rule }}.json_type = 'number' and {{ value_type }} in ('BIGINT', 'UBIGINT', 'DOUBLE'))
            or ({{ rule }}.json_type = 'array' and {{ value_type }} = 'ARRAY')
            or ({{ rule }}.json_type = 'object' and {{ value_type }} = 'OBJECT')
        ) then 'wrong_property_type'
        when
            {{ safe_cast(value_text, 'double') }} < {{ rule }}.min_value
            or {{ safe_cast(value_text, 'double') }} > {{ rule }}.max_value
            or (
                -- decimals counted on the number's text, so neither rounding nor underflow hides
                -- them: fraction digits (trailing zeros dropped) minus the exponent, and for an
                -- integer mantissa minus its trailing zeros (100e-2 has none, 1e-400 has 400)
                {{ rule }}.max_decimals is not null
                and {{ rule }}.max_decimals < case
                    when regexp_matches({{ value_text }}, '\.[0-9]*[1-9]')
                        then length(regexp_extract({{ value_text }}, '\.([0-9]*[1-9])', 1))
                    else -length(regexp_extract({{ value_text }}, '(0*)(\.0*)?([eE].*)?$', 1))
                end - coalesce({{ safe_cast(
                    "regexp_extract(" ~ value_text ~ ", '[eE]([+-]?[0-9]+)$', 1)", 'bigint') }}, 0)
            )
            -- (the pattern differs per rule: a regex compiled per row, so only where there is one)
            or ({{ rule }}.pattern is not null and not regexp_matches({{ value_text }}, {{ rule }}.pattern))
            then 'value_out_of_range'
    end
{%- endmacro %}

{#- A deterministic key derived from content: the md5 of the given expressions, each cast to
    text, NULL written as an empty marker, joined with a separator that cannot be confused. -#}
{% macro hash_key(expressions) -%}
    md5(concat(
        {%- for expression in expressions %}
        coalesce(cast({{ expression }} as {{ dbt.type_string() }}), '<null>'){{ ", '|'," if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}
