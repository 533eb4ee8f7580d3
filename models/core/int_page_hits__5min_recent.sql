-- Grain: one row per unsettled 5-minute window, host and page URL: the live half of the
-- page-hit lambda. Reads the staged log after the newest settled window, plus the lines
-- loaded since the last build (base_raw__lines_recent), so it is at most one loader run behind.
{{ config(materialized='view') }}

with

settled as (
    select max(window_start) as last_settled_start
    from {{ ref('int_page_hits__5min_settled') }}
),

staged_hits as (
    select
        event_id,
        event_at,
        host,
        page_url,
        anonymous_id
    from {{ ref('int_web_events__page_hits') }}
),

loaded_since_build as (
    select
        recent.event_id,
        recent.event_at,
        recent.host,
        recent.page_url,
        recent.anonymous_id
    from {{ ref('base_raw__lines_recent') }} as recent
    where
        recent.source_system = 'web'
        and recent.event_type in ('page_view', 'product_view')
        and recent.event_id not in (select staged_hits.event_id from staged_hits)
),

page_hits as (
    select
        {{ floor_to_minutes('all_hits.event_at', 5) }} as window_start,
        all_hits.host,
        all_hits.page_url,
        all_hits.anonymous_id
    from (
        select
            event_at,
            host,
            page_url,
            anonymous_id
        from staged_hits
        union all
        select
            event_at,
            host,
            page_url,
            anonymous_id
        from loaded_since_build
    ) as all_hits
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
    cross join settled
    where settled.last_settled_start is null or page_hits.window_start > settled.last_settled_start
    group by page_hits.window_start, page_hits.host, page_hits.page_url
)

select * from final
