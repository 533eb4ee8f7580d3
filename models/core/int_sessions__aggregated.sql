-- Grain: one row per web session (see int_web_events__sessionized), with its timing, entry
-- page and activity counts. The person is joined downstream (fct_sessions), because identity
-- can change without new events on the session's device.
-- Incremental: a run recomputes, whole, every anonymous id with a session that is new or whose
-- event count or latest receipt changed (what this table stores of it).
{{ config(
    materialized='incremental',
    unique_key='anonymous_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
{{ require_full_refresh_for_as_of() }}

with

session_events as (
    select * from {{ ref('int_web_events__sessionized') }}
),

{% if is_incremental() -%}
changed_anonymous_ids as (
    -- anonymous ids with a session whose events or latest receipt differ from what is stored
    select distinct current_sessions.anonymous_id
    from (
        select
            session_events.anonymous_id,
            session_events.session_id,
            count(*) as event_count,
            max(session_events.received_at) as last_received_at
        from session_events
        group by session_events.anonymous_id, session_events.session_id
    ) as current_sessions
    left join {{ this }} as built
        on
            current_sessions.session_id = built.session_id
            and current_sessions.event_count = built.event_count
            and current_sessions.last_received_at = built.last_received_at
    where built.session_id is null
),

{% endif -%}
scoped_events as (
    select session_events.*
    from session_events
    {%- if is_incremental() %}
    where session_events.anonymous_id in (select changed_anonymous_ids.anonymous_id from changed_anonymous_ids)
    {%- endif %}
),

entries as (
    select
        session_id,
        page_path as landing_path,
        referrer,
        campaign,
        host,
        user_agent
    from scoped_events
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
    from scoped_events
    group by session_id, anonymous_id
),

final as (
    select
        activity.session_id,
        activity.anonymous_id,
        activity.started_at,
        activity.ended_at,
        {{ seconds_between('activity.started_at', 'activity.ended_at') }} as duration_seconds,
        activity.last_received_at,
        entries.landing_path,
        entries.referrer,
        entries.campaign,
        entries.host,
        entries.user_agent,
        activity.event_count,
        activity.page_view_count,
        activity.product_view_count,
        activity.add_to_cart_count,
        activity.has_checkout_started,
        activity.has_identified
    from activity
    inner join entries on activity.session_id = entries.session_id
)

select * from final
