{#- Where the raw log's JSON is parsed (macros/raw_line_parsing_ctes.sql, also used by the live
    view and, for its few lines, by stg_privacy__deletion_requests): one row per raw line, parsed
    once, typed, validated and classified as staged, quarantined or duplicate.
    Incremental: a run parses only the raw lines not yet here, and re-ranks the already staged
    lines of the same event ids, so the result equals a full refresh. -#}
{{ config(
    materialized='incremental',
    unique_key='raw_line_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
{{ require_full_refresh_for_as_of() }}

with

raw_events as (
    {{ raw_lines_not_in(this if is_incremental() else none) }}
),

{{ raw_line_parsing_ctes('raw_events') }},

new_lines as (
    select * from parsed_lines
    where {{ as_of_condition('log_clock_at') }}
),

{{ raw_line_delivery_ctes('new_lines', this if is_incremental() else none) }},

final as (
    select
        {%- for column in raw_line_parsed_columns() %}
        {{ column }},
        {%- endfor %}
        line_status,
        delivery_number
    from classified_lines
)

select * from final
