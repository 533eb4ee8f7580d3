-- Grain: one row per web session (see int_web_events__sessionized), with its person, timing,
-- entry page and activity counts.
with

session_events as (
    select * from {{ ref('int_web_events__sessionized') }}
),

people as (
    select
        identifier_value as anonymous_id,
        person_key,
        user_id
    from {{ ref('int_identity__person_map') }}
    where identifier_type = 'anonymous_id'
),

entries as (
    select
        session_id,
        page_path as landing_path,
        referrer,
        campaign,
        host
    from session_events
    where is_session_start
),

activity as (
    select
        session_id,
        anonymous_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        max(received_at) as last_received_at,
        count(*) as event_count,
        count(case when event_type = 'page_view' then 1 end) as page_view_count,
        count(case when event_type = 'product_view' then 1 end) as product_view_count,
        count(case when event_type = 'add_to_cart' then 1 end) as add_to_cart_count,
        count(case when event_type = 'checkout_started' then 1 end) > 0 as has_checkout_started,
        count(case when event_type in ('login', 'signup', 'identify') then 1 end) > 0 as has_identified
    from session_events
    group by session_id, anonymous_id
),

final as (
    select
        activity.session_id,
        activity.anonymous_id,
        people.person_key,
        people.user_id,
        activity.started_at,
        activity.ended_at,
        {{ seconds_between('activity.started_at', 'activity.ended_at') }} as duration_seconds,
        activity.last_received_at,
        entries.landing_path,
        entries.referrer,
        entries.campaign,
        entries.host,
        activity.event_count,
        activity.page_view_count,
        activity.product_view_count,
        activity.add_to_cart_count,
        activity.has_checkout_started,
        activity.has_identified
    from activity
    inner join entries on activity.session_id = entries.session_id
    left join people on activity.anonymous_id = people.anonymous_id
)

select * from final
