-- Every session's page views in fct_page_views are the page and product views fct_sessions
-- counts for it, one landing and one exit each. Rows returned are sessions that disagree.
with

sessions as (
    select
        session_id,
        page_view_count + product_view_count as view_count
    from {{ ref('fct_sessions') }}
),

page_views as (
    select
        session_id,
        count(*) as view_count,
        count(case when is_landing then 1 end) as landing_count,
        count(case when is_exit then 1 end) as exit_count
    from {{ ref('fct_page_views') }}
    group by session_id
)

select
    sessions.session_id,
    sessions.view_count as session_view_count,
    page_views.view_count,
    page_views.landing_count,
    page_views.exit_count
from sessions
left join page_views on sessions.session_id = page_views.session_id
where
    sessions.view_count <> coalesce(page_views.view_count, 0)
    or (sessions.view_count > 0 and (page_views.landing_count <> 1 or page_views.exit_count <> 1))
