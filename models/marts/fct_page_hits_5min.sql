-- Grain: one row per 5-minute window (event time), host and page URL: page hits (page and
-- product views) from the settled historical table and the live view, in one relation that is
-- at most one loader run behind. What a streaming job would compute, in SQL.
{{ config(materialized='view') }}

with

settled as (
    select
        window_start,
        window_end,
        host,
        page_url,
        hit_count,
        visitor_count,
        true as is_settled
    from {{ ref('int_page_hits__5min_settled') }}
),

recent as (
    select
        window_start,
        window_end,
        host,
        page_url,
        hit_count,
        visitor_count,
        false as is_settled
    from {{ ref('int_page_hits__5min_recent') }}
),

final as (
    select * from settled
    union all
    select * from recent
)

select * from final
