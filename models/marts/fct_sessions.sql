-- Grain: one row per web session, with the person behind its device; sessions of persons who
-- asked to be forgotten are left out.
with

sessions as (
    select * from {{ ref('int_sessions__aggregated') }}
),

traffic as (
    select * from {{ ref('int_sessions__traffic') }}
),

people as (
    select
        identifier_value as anonymous_id,
        person_key,
        user_id
    from {{ ref('int_identity__person_map') }}
    where identifier_type = 'anonymous_id'
),

final as (
    select
        sessions.session_id,
        people.person_key,
        sessions.anonymous_id,
        people.user_id,
        sessions.started_at,
        sessions.ended_at,
        sessions.duration_seconds,
        cast(sessions.started_at as date) as session_date,
        sessions.landing_path,
        sessions.referrer,
        sessions.campaign,
        sessions.host,
        traffic.referrer_host,
        traffic.channel,
        traffic.is_bot,
        sessions.event_count,
        sessions.page_view_count,
        sessions.product_view_count,
        sessions.add_to_cart_count,
        sessions.has_checkout_started,
        sessions.has_identified
    from sessions
    inner join traffic on sessions.session_id = traffic.session_id
    left join people on sessions.anonymous_id = people.anonymous_id
    where not {{ is_erased('sessions.anonymous_id', "'anonymous_id'") }}
)

select * from final
