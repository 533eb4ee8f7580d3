-- Grain: one row per page hit (a staged page_view or product_view event), with the 5-minute
-- window (event time) it falls in. Shared by both halves of the page-hit lambda.
{{ config(materialized='view') }}

with

web_events as (
    select
        event_id,
        load_id,
        event_type,
        event_at,
        host,
        page_url,
        anonymous_id
    from {{ ref('stg_web__events') }}
),

final as (
    select
        event_id,
        load_id,
        {{ floor_to_minutes('event_at', 5) }} as window_start,
        event_at,
        host,
        page_url,
        anonymous_id
    from web_events
    where event_type in ('page_view', 'product_view')
)

select * from final
