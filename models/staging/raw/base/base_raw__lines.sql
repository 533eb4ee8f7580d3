{#- The log as this build knows it: the raw lines of every load committed when the build
    reached this model (a fixed prefix: a load landing during the build waits for the next one),
    parsed by base_raw__lines_parsed and classified as staged, duplicate or quarantined.
    Append-only: a run parses only the loads after the last one here. A line of a later load
    can never be an earlier delivery (load times never go back, and a tie goes to the earlier
    load), so appending is the same as a rebuild: nothing here is ever rewritten. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}
{%- set loaded_before = max_load_id(this) if is_incremental() else 0 %}
{%- set build_bound = max_load_id(source('raw', 'events')) %}
-- Grain: one row per raw line (`file_path`, `line_number`) of loads 1 to the build's bound.

with

new_lines as (
    select *
    from {{ ref('base_raw__lines_parsed') }}
    where load_id > {{ loaded_before }} and load_id <= {{ build_bound }}
),

delivered_before as (
    -- conforming copies of the new lines' events already here (from earlier loads)
    {%- if is_incremental() %}
    select
        event_id,
        count(*) as delivery_count
    from {{ this }}
    where
        line_status in ('staged', 'duplicate')
        and event_id in (select new_lines.event_id from new_lines)
    group by event_id
    {%- else %}
    select
        cast(null as varchar) as event_id,
        cast(null as bigint) as delivery_count
    where false
    {%- endif %}
),

deliveries as (
    -- each conforming line's place among its event's deliveries: first loaded first (load
    -- time, then load, file and line; never a producer-written timestamp)
    select
        new_lines.raw_line_key,
        coalesce(delivered_before.delivery_count, 0)
        + row_number() over (
            partition by new_lines.event_id
            order by
                new_lines.loaded_at, new_lines.load_id, new_lines.file_path, new_lines.line_number
        ) as delivery_number
    from new_lines
    left join delivered_before on new_lines.event_id = delivered_before.event_id
    where new_lines.quarantine_reason is null
),

final as (
    select
        new_lines.*,
        case
            when new_lines.quarantine_reason is not null then 'quarantined'
            when deliveries.delivery_number = 1 then 'staged'
            else 'duplicate'
        end as line_status,
        deliveries.delivery_number
    from new_lines
    left join deliveries on new_lines.raw_line_key = deliveries.raw_line_key
)

-- the parsed columns pass through as base_raw__lines_parsed defines them
select * from final  -- noqa: AM04
