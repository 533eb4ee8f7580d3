-- Grain: one row per settled 5-minute window (event time), host and page URL, with its hits.
-- The historical half of the page-hit lambda: a window is settled once the log's clock is
-- `page_hits_settle_minutes` past its end. Incremental: each run recomputes the windows from
-- `late_event_lookback_hours` before the newest stored window onwards, taking in late events.
{{ config(
    materialized='incremental',
    unique_key='window_start',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
{{ require_full_refresh_for_as_of() }}

with

page_hits as (
    select
        window_start,
        host,
        page_url,
        anonymous_id
    from {{ ref('int_web_events__page_hits') }}
),

log_clock as (
    select
        max(received_at)
        - interval '{{ var("page_hits_settle_minutes") }}' minute as settle_clock
    from {{ ref('stg_raw__events') }}
    where line_status = 'staged'
),

stored as (
    -- on an incremental run, windows from the lookback before the newest stored window on are
    -- recomputed; a full build computes all (recompute_from is null)
    {%- if is_incremental() %}
    select
        max(built.window_start)
        - interval '{{ var("late_event_lookback_hours") }}' hour as recompute_from
    from {{ this }} as built
    {%- else %}
    select cast(null as timestamp) as recompute_from
    {%- endif %}
),

bounds as (
    select
        {{ floor_to_minutes('log_clock.settle_clock', 5) }} as settled_before,
        stored.recompute_from
    from log_clock
    cross join stored
),

final as (
    select
        page_hits.window_start,
        page_hits.window_start + interval '5' minute as window_end,
        page_hits.host,
        page_hits.page_url,
        count(*) as hit_count,
        count(distinct page_hits.anonymous_id) as visitor_count
    from page_hits
    cross join bounds
    where
        page_hits.window_start < bounds.settled_before
        and (bounds.recompute_from is null or page_hits.window_start >= bounds.recompute_from)
    group by page_hits.window_start, page_hits.host, page_hits.page_url
)

select * from final
