-- Grain: one row per page view (a page_view or product_view event) of a web session, in the
-- session's order (event time, then event id), with the pages before and after it. Time on
-- page runs to the session's next page view; the exit page has none (no later view says when
-- it was left). Page views of persons who asked to be forgotten are left out.
with

session_events as (
    select * from {{ ref('int_web_events__sessionized') }}
    where event_type in ('page_view', 'product_view')
),

ordered as (
    select
        session_events.*,
        row_number() over session_order as view_number,
        count(*) over (partition by session_events.session_id) as session_view_count,
        lag(session_events.page_path) over session_order as previous_page_path,
        lead(session_events.page_path) over session_order as next_page_path,
        lead(session_events.event_at) over session_order as next_viewed_at
    from session_events
    window session_order as (
        partition by session_events.session_id
        order by session_events.event_at, session_events.event_id
    )
),

final as (
    select
        event_id as page_view_id,
        session_id,
        anonymous_id,
        event_type,
        event_at as viewed_at,
        cast(event_at as date) as view_date,
        host,
        page_url,
        page_path,
        product_id,
        view_number,
        previous_page_path,
        next_page_path,
        {{ seconds_between('event_at', 'next_viewed_at') }} as seconds_on_page,
        view_number = 1 as is_landing,
        view_number = session_view_count as is_exit
    from ordered
    where not {{ is_erased('ordered.anonymous_id', "'anonymous_id'") }}
)

select * from final
