{#- The live edge of the log: raw lines loaded since stg_raw__events was last built, parsed and
    classified the same way (same macros), so a live relation can be at most one loader run
    behind without a rebuild. Empty right after a build. -#}
{{ config(materialized='view') }}

with

raw_events as (
    {{ raw_lines_not_in(ref('stg_raw__events')) }}
),

{{ raw_line_parsing_ctes('raw_events') }},

new_lines as (
    select * from parsed_lines
    where {{ as_of_condition('log_clock_at') }}
),

{{ raw_line_delivery_ctes('new_lines', ref('stg_raw__events')) }},

final as (
    select
        {%- for column in raw_line_parsed_columns() %}
        {{ column }},
        {%- endfor %}
        line_status,
        delivery_number
    from classified_lines
    where not is_prior
)

select * from final
