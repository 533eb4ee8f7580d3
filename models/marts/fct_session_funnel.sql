-- Grain: one row per web session (fct_sessions): how far down the shop's funnel it went. The
-- steps are strict, each counting only when every step before it was reached: 1 a page viewed,
-- 2 a product viewed, 3 an add to cart, 4 checkout started, 5 an order. A session's order is
-- one its person placed from the session's start to `session_timeout_minutes` after its last
-- event (orders carry no device id; the person links them).
with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

orders as (
    select
        order_id,
        person_key,
        ordered_at
    from {{ ref('fct_orders') }}
    where person_key is not null
),

session_orders as (
    select
        sessions.session_id,
        count(*) as order_count
    from sessions
    inner join orders
        on
            sessions.person_key = orders.person_key
            and sessions.started_at <= orders.ordered_at
            and {{ dbt.dateadd('minute', var('session_timeout_minutes'), 'sessions.ended_at') }} >= orders.ordered_at
    group by sessions.session_id
),

steps as (
    select
        sessions.session_id,
        sessions.session_date,
        sessions.channel,
        sessions.is_bot,
        sessions.page_view_count + sessions.product_view_count > 0 as has_page_view,
        sessions.product_view_count > 0 as has_product_view,
        sessions.add_to_cart_count > 0 as has_add_to_cart,
        sessions.has_checkout_started,
        coalesce(session_orders.order_count, 0) as order_count
    from sessions
    left join session_orders on sessions.session_id = session_orders.session_id
),

final as (
    select
        session_id,
        session_date,
        channel,
        is_bot,
        order_count,
        has_page_view as reached_page_view,
        has_page_view and has_product_view as reached_product_view,
        has_page_view and has_product_view and has_add_to_cart as reached_add_to_cart,
        has_page_view and has_product_view and has_add_to_cart and has_checkout_started as reached_checkout,
        has_page_view and has_product_view and has_add_to_cart and has_checkout_started
        and order_count > 0 as reached_order,
        case
            when not has_page_view then 0
            when not has_product_view then 1
            when not has_add_to_cart then 2
            when not has_checkout_started then 3
            when order_count = 0 then 4
            else 5
        end as funnel_step
    from steps
)

select * from final
