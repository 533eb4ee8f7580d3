-- Grain: one row per web session.
with

sessions as (
    select * from {{ ref('int_sessions__aggregated') }}
),

final as (
    select
        session_id,
        person_key,
        anonymous_id,
        user_id,
        started_at,
        ended_at,
        duration_seconds,
        cast(started_at as date) as session_date,
        landing_path,
        referrer,
        campaign,
        host,
        event_count,
        page_view_count,
        product_view_count,
        add_to_cart_count,
        has_checkout_started,
        has_identified
    from sessions
)

select * from final
