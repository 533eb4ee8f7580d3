-- Grain: one row per web event with an anonymous id, with the session it belongs to. A gap of
-- more than `session_timeout_minutes` (default 30) since the same anonymous id's previous
-- event starts a new session. Ties on event time are broken by event id, so sessions are
-- deterministic; a session's id is derived from its anonymous id and its first event.
-- Incremental: a run recomputes, whole, every anonymous id that has new events (late ones
-- included) or an event whose first delivery changed, so it always equals a full refresh.
{{ config(
    materialized='incremental',
    unique_key='anonymous_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
{{ require_full_refresh_for_as_of() }}

with

web_events as (
    select
        event_id,
        event_type,
        anonymous_id,
        event_at,
        received_at,
        page_path,
        page_url,
        referrer,
        campaign,
        host,
        user_agent,
        product_id
    from {{ ref('stg_web__events') }}
    where anonymous_id is not null
),

{% if is_incremental() -%}
changed_anonymous_ids as (
    -- anonymous ids with an event not stored yet, or stored with another received_at (an
    -- earlier delivery of it arrived late and now ranks first)
    select distinct web_events.anonymous_id
    from web_events
    where not exists (
        select 1 from {{ this }} as sessionized
        where
            sessionized.event_id = web_events.event_id
            and sessionized.received_at = web_events.received_at
    )
),

{% endif -%}
scoped_events as (
    select web_events.*
    from web_events
    {%- if is_incremental() %}
    where web_events.anonymous_id in (select changed_anonymous_ids.anonymous_id from changed_anonymous_ids)
    {%- endif %}
),

gaps as (
    select
        scoped_events.*,
        lag(scoped_events.event_at) over (
            partition by scoped_events.anonymous_id
            order by scoped_events.event_at, scoped_events.event_id
        ) as previous_event_at
    from scoped_events
),

flagged as (
    select
        gaps.*,
        case
            when gaps.previous_event_at is null then 1
            when
                gaps.event_at - gaps.previous_event_at
                > interval '{{ var("session_timeout_minutes") }}' minute then 1
            else 0
        end as is_session_start
    from gaps
),

numbered as (
    select
        flagged.*,
        cast(sum(flagged.is_session_start) over (
            partition by flagged.anonymous_id
            order by flagged.event_at, flagged.event_id
            rows between unbounded preceding and current row
        ) as bigint) as session_number
    from flagged
),

sessions_started as (
    select
        numbered.*,
        first_value(numbered.event_id) over (
            partition by numbered.anonymous_id, numbered.session_number
            order by numbered.event_at, numbered.event_id
            rows between unbounded preceding and unbounded following
        ) as session_start_event_id
    from numbered
),

final as (
    select
        {{ hash_key(['anonymous_id', 'session_start_event_id']) }} as session_id,
        anonymous_id,
        session_number,
        event_id,
        event_type,
        event_at,
        received_at,
        page_path,
        page_url,
        referrer,
        campaign,
        host,
        user_agent,
        product_id,
        is_session_start = 1 as is_session_start
    from sessions_started
)

select * from final
