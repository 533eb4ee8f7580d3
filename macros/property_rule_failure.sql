{#- The quarantine reason one property rule (a row of seed event_property_rules, aliased
    `rule`) gives a value, or NULL when the value passes: `missing_required_property`,
    `wrong_property_type` or `value_out_of_range` (a number outside [min_value, max_value] or
    with more than max_decimals (0 to 3) decimals, a string not matching pattern). `value_type` is the
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
                {{ rule }}.max_decimals is not null
                and coalesce(
                    {{ safe_cast(value_text, 'decimal(38, 12)') }} != case {{ rule }}.max_decimals
                        {%- for scale in range(4) %}
                        when {{ scale }} then cast({{ safe_cast(value_text, 'decimal(38, ' ~ scale ~ ')') }} as decimal(38, 12))
                        {%- endfor %}
                    end,
                    true
                )
            )
            or not regexp_matches({{ value_text }}, coalesce({{ rule }}.pattern, ''))
            then 'value_out_of_range'
    end
{%- endmacro %}
