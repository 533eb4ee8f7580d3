{#- Classify parsed raw lines (the CTE `new_cte`, from raw_line_parsing_ctes) as staged,
    duplicate or quarantined. Conforming lines compete per event_id for being the first
    delivery: the first loaded (load time, then file path and line number), never a
    producer-written timestamp. When `prior_relation` is
    given (the staged table), its lines of the same event ids compete too and are re-emitted
    with is_prior = true, so an incremental run can replace them and a live view can ignore
    them. Emits CTE definitions ending with `classified_lines`. -#}
{% macro raw_line_delivery_ctes(new_cte, prior_relation=none) -%}
{%- set columns = raw_line_parsed_columns() -%}
candidates as (
    select
        {%- for column in columns %}
        {{ new_cte }}.{{ column }},
        {%- endfor %}
        false as is_prior
    from {{ new_cte }}
    where {{ new_cte }}.quarantine_reason is null
    {%- if prior_relation is not none %}
    union all
    select
        {%- for column in columns %}
        prior_lines.{{ column }},
        {%- endfor %}
        true as is_prior
    from {{ prior_relation }} as prior_lines
    where
        prior_lines.line_status in ('staged', 'duplicate')
        and prior_lines.event_id in (
            select {{ new_cte }}.event_id from {{ new_cte }}
            where {{ new_cte }}.quarantine_reason is null
        )
    {%- endif %}
),

deliveries as (
    select
        candidates.*,
        row_number() over (
            partition by candidates.event_id
            order by candidates.loaded_at, candidates.file_path, candidates.line_number
        ) as delivery_number
    from candidates
),

classified_lines as (
    select
        {%- for column in columns %}
        deliveries.{{ column }},
        {%- endfor %}
        deliveries.is_prior,
        case when deliveries.delivery_number = 1 then 'staged' else 'duplicate' end as line_status,
        deliveries.delivery_number
    from deliveries
    union all
    select
        {%- for column in columns %}
        {{ new_cte }}.{{ column }},
        {%- endfor %}
        false as is_prior,
        'quarantined' as line_status,
        cast(null as bigint) as delivery_number
    from {{ new_cte }}
    where {{ new_cte }}.quarantine_reason is not null
)
{%- endmacro %}
