{#- The live edge of the log, for the page-hit lambda's live view: events first delivered in
    loads after the last build of base_raw__lines, parsed by the same view, so a live relation
    can be at most one loader run behind without a rebuild. Empty right after a build. The load
    bound is written in when this view is built; if it goes stale, the filter on the events
    already in base_raw__lines still keeps each event out of here once it is there. -#}
{{ config(materialized='view') }}
{%- set built_bound = max_load_id(ref('base_raw__lines')) %}
-- Grain: one row per event (`event_id`) whose first conforming delivery was loaded after the
-- last build: that delivery's line, parsed.

with

loaded_since_build as (
    select *
    from {{ ref('base_raw__lines_parsed') }}
    where
        load_id > {{ built_bound }}
        and quarantine_reason is null
        and {{ as_of_condition('loaded_at') }}
),

final as (
    select loaded_since_build.*
    from loaded_since_build
    where
        loaded_since_build.event_id not in (
            select built.event_id from {{ ref('base_raw__lines') }} as built
            where built.line_status = 'staged'
        )
    qualify row_number() over (
        partition by loaded_since_build.event_id
        order by
            loaded_since_build.loaded_at,
            loaded_since_build.load_id,
            loaded_since_build.file_path,
            loaded_since_build.line_number
    ) = 1
)

-- the parsed columns pass through as base_raw__lines_parsed defines them
select * from final  -- noqa: AM04
