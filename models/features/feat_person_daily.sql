-- Grain: one row per person per day (person_key, feature_date), from the person's first known
-- day to the day of the log's clock. Point in time on the log's clock (received_at): a row for
-- day d counts only events received by the end of day d; the row of the clock's own day is
-- still filling (is_complete_day false). Persons come from today's identity graph, so a later
-- merge can move a past row to the surviving person's key.
with

web_events as (
    select
        anonymous_id,
        event_type,
        received_at
    from {{ ref('stg_web__events') }}
    where anonymous_id is not null
),

anonymous_people as (
    select
        identifier_value as anonymous_id,
        person_key
    from {{ ref('int_identity__person_map') }}
    where identifier_type = 'anonymous_id'
),

orders as (
    select
        person_key,
        received_at,
        total_amount
    from {{ ref('int_orders__with_payments') }}
    where person_key is not null
),

log_clock as (
    select max(received_at) as last_received_at
    from {{ ref('stg_raw__events') }}
    where line_status = 'staged'
),

web_daily as (
    select
        anonymous_people.person_key,
        cast(web_events.received_at as date) as activity_date,
        count(*) as event_count,
        count(case when web_events.event_type = 'page_view' then 1 end) as page_view_count,
        count(case when web_events.event_type = 'product_view' then 1 end) as product_view_count,
        count(case when web_events.event_type = 'add_to_cart' then 1 end) as add_to_cart_count,
        count(case when web_events.event_type = 'checkout_started' then 1 end) as checkout_count
    from web_events
    inner join anonymous_people on web_events.anonymous_id = anonymous_people.anonymous_id
    group by anonymous_people.person_key, activity_date
),

order_daily as (
    select
        person_key,
        cast(received_at as date) as activity_date,
        count(*) as order_count,
        sum(total_amount) as order_amount
    from orders
    group by person_key, activity_date
),

first_days as (
    select
        person_key,
        min(activity_date) as first_activity_date
    from (
        select
            person_key,
            activity_date
        from web_daily
        union all
        select
            person_key,
            activity_date
        from order_daily
    ) as activity_days
    group by person_key
),

spine as (
    select
        first_days.person_key,
        first_days.first_activity_date,
        cast(log_clock.last_received_at as date) as clock_date,
        {{ day_series(
            'first_days.first_activity_date',
            'cast(log_clock.last_received_at as date)',
            'feature_date',
        ) }}
    from first_days
    cross join log_clock
),

spine_flagged as (
    -- the log's clock is inside its last day: that day's row is still filling
    select
        spine.*,
        spine.feature_date < spine.clock_date as is_complete_day
    from spine
),

daily as (
    select
        spine.person_key,
        spine.feature_date,
        spine.first_activity_date,
        spine.is_complete_day,
        coalesce(web_daily.event_count, 0) as event_count,
        coalesce(web_daily.page_view_count, 0) as page_view_count,
        coalesce(web_daily.product_view_count, 0) as product_view_count,
        coalesce(web_daily.add_to_cart_count, 0) as add_to_cart_count,
        coalesce(web_daily.checkout_count, 0) as checkout_count,
        coalesce(order_daily.order_count, 0) as order_count,
        coalesce(order_daily.order_amount, 0) as order_amount,
        case when web_daily.event_count > 0 then spine.feature_date end as active_date
    from spine_flagged as spine
    left join web_daily
        on spine.person_key = web_daily.person_key and spine.feature_date = web_daily.activity_date
    left join order_daily
        on spine.person_key = order_daily.person_key and spine.feature_date = order_daily.activity_date
),

windowed as (
    select
        daily.*,
        sum(daily.page_view_count) over last_7_days as page_views_7d,
        sum(daily.product_view_count) over last_7_days as product_views_7d,
        sum(daily.add_to_cart_count) over last_7_days as add_to_carts_7d,
        sum(case when daily.event_count > 0 then 1 else 0 end) over last_28_days as active_days_28d,
        sum(daily.order_count) over to_date as orders_to_date,
        sum(daily.order_amount) over to_date as order_amount_to_date,
        max(daily.active_date) over to_date as last_active_date
    from daily
    window
        by_day as (partition by daily.person_key order by daily.feature_date),
        last_7_days as (by_day rows between 6 preceding and current row),
        last_28_days as (by_day rows between 27 preceding and current row),
        to_date as (by_day rows between unbounded preceding and current row)
),

final as (
    select
        {{ hash_key(['person_key', 'feature_date']) }} as person_day_key,
        person_key,
        feature_date,
        is_complete_day,
        event_count as events_1d,
        page_view_count as page_views_1d,
        product_view_count as product_views_1d,
        add_to_cart_count as add_to_carts_1d,
        checkout_count as checkouts_1d,
        order_count as orders_1d,
        cast(page_views_7d as bigint) as page_views_7d,
        cast(product_views_7d as bigint) as product_views_7d,
        cast(add_to_carts_7d as bigint) as add_to_carts_7d,
        cast(active_days_28d as bigint) as active_days_28d,
        cast(orders_to_date as bigint) as orders_to_date,
        order_amount_to_date,
        {{ days_between('first_activity_date', 'feature_date') }} as days_since_first_seen,
        {{ days_between('last_active_date', 'feature_date') }} as days_since_last_active
    from windowed
)

select * from final
