-- Grain: one row per session date and traffic channel: how many sessions reached each step of
-- the funnel (fct_session_funnel: page view, product view, add to cart, checkout, order) and
-- how many dropped off after each. Bot sessions are left out. The steps are strict, so the
-- counts never increase down the funnel.
with

funnel as (
    select * from {{ ref('fct_session_funnel') }}
    where not is_bot
),

counted as (
    select
        session_date,
        channel,
        count(*) as session_count,
        count(case when reached_page_view then 1 end) as page_view_sessions,
        count(case when reached_product_view then 1 end) as product_view_sessions,
        count(case when reached_add_to_cart then 1 end) as add_to_cart_sessions,
        count(case when reached_checkout then 1 end) as checkout_sessions,
        count(case when reached_order then 1 end) as order_sessions
    from funnel
    group by session_date, channel
),

final as (
    select
        {{ hash_key(['session_date', 'channel']) }} as funnel_day_key,
        session_date,
        channel,
        session_count,
        page_view_sessions,
        product_view_sessions,
        add_to_cart_sessions,
        checkout_sessions,
        order_sessions,
        page_view_sessions - product_view_sessions as dropped_after_page_view,
        product_view_sessions - add_to_cart_sessions as dropped_after_product_view,
        add_to_cart_sessions - checkout_sessions as dropped_after_add_to_cart,
        checkout_sessions - order_sessions as dropped_after_checkout
    from counted
)

select * from final
