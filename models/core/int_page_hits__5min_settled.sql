-- Grain: one row per settled 5-minute window (event time), host and page URL, with its hits.
-- The historical half of the page-hit lambda: a window is settled once the log's clock (the
-- latest load time) is `page_hits_settle_minutes` past its end. Incremental: a run recomputes the newly settled
-- windows and every settled window that lines loaded since the last run touch, however late
-- they are, so it always equals a full refresh.
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
        load_id,
        window_start,
        host,
        page_url,
        anonymous_id
    from {{ ref('int_web_events__page_hits') }}
),

log_clock as (
    -- the knowledge clock (the latest load time), never a producer-written time, so a bogus
    -- far-future timestamp settles nothing
    select log_clock_at - interval '{{ var("page_hits_settle_minutes") }}' minute as settle_clock
    from {{ ref('stg_raw__log_clock') }}
),

stored as (
    -- what the previous runs stored: the newest window and the latest load behind any stored
    -- hit (every hit of an earlier load was seen then: it is stored, or its window was not
    -- settled yet and is newer than the newest stored one). A full build computes everything.
    {%- if is_incremental() %}
    select
        max(built.window_start) as last_window_start,
        max(built.last_load_id) as last_load_id
    from {{ this }} as built
    {%- else %}
    select
        cast(null as timestamp) as last_window_start,
        cast(null as integer) as last_load_id
    {%- endif %}
),

touched_windows as (
    select distinct page_hits.window_start
    from page_hits
    cross join stored
    where page_hits.load_id > stored.last_load_id
),

bounds as (
    select
        {{ floor_to_minutes('log_clock.settle_clock', 5) }} as settled_before,
        stored.last_window_start
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
        count(distinct page_hits.anonymous_id) as visitor_count,
        max(page_hits.load_id) as last_load_id
    from page_hits
    cross join bounds
    where
        page_hits.window_start < bounds.settled_before
        and (
            bounds.last_window_start is null
            or page_hits.window_start > bounds.last_window_start
            or page_hits.window_start in (select touched_windows.window_start from touched_windows)
        )
    group by page_hits.window_start, page_hits.host, page_hits.page_url
)

select * from final
