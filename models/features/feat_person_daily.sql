-- Grain: one row per person per day (person_key, feature_date): for each day from a person's
-- first known day to the day of the log's clock. Point in time on the log's clock (loaded_at,
-- the load time): the row for day d is what the log knew at the end of day d. It counts only
-- events loaded by then, and it is keyed by the person as the identity graph stood then
-- (int_identity__person_key_periods): every identifier takes the key it had at the end of d, and
-- a person's windows and to-date sums cover all identifiers that were theirs at that time. A
-- later merge therefore adds rows under the surviving key from the day it happened and never
-- rewrites an earlier row; int_identity__person_key_merges maps old keys to current ones. The
-- row of the clock's own day is still filling (is_complete_day false). Persons who asked to be
-- forgotten are left out, on every build (int_identity__erased_identifiers).
{%- set daily_measures = [
    'event_count', 'page_view_count', 'product_view_count', 'add_to_cart_count',
    'checkout_count', 'order_count', 'order_amount',
] %}
with

web_events as (
    select
        anonymous_id,
        event_type,
        loaded_at
    from {{ ref('stg_web__events') }}
    where anonymous_id is not null
),

orders as (
    select
        user_id,
        email_hash,
        loaded_at,
        total_amount
    from {{ ref('stg_shop__orders') }}
),

key_periods as (
    select
        identifier_type,
        identifier_value,
        person_key,
        valid_from,
        valid_to
    from {{ ref('int_identity__person_key_periods') }}
),

log_clock as (
    -- the knowledge clock (the latest load time), so no producer-written timestamp, however
    -- far in the future, widens the days
    select cast(log_clock_at as date) as clock_date
    from {{ ref('stg_raw__log_clock') }}
),

activity as (
    -- one row per event, on the identifier it was seen with: web events on their anonymous id,
    -- orders on their account, else their email
    select
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value,
        cast(loaded_at as date) as activity_date,
        1 as event_count,
        case when event_type = 'page_view' then 1 else 0 end as page_view_count,
        case when event_type = 'product_view' then 1 else 0 end as product_view_count,
        case when event_type = 'add_to_cart' then 1 else 0 end as add_to_cart_count,
        case when event_type = 'checkout_started' then 1 else 0 end as checkout_count,
        0 as order_count,
        cast(0 as decimal(18, 2)) as order_amount
    from web_events
    union all
    select
        case when user_id is not null then 'user_id' else 'email_hash' end as identifier_type,
        coalesce(user_id, email_hash) as identifier_value,
        cast(loaded_at as date) as activity_date,
        0 as event_count,
        0 as page_view_count,
        0 as product_view_count,
        0 as add_to_cart_count,
        0 as checkout_count,
        1 as order_count,
        total_amount as order_amount
    from orders
),

identifier_daily as (
    select
        {%- for measure in daily_measures %}
        sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        identifier_type,
        identifier_value,
        activity_date
    from activity
    where not {{ is_erased('activity.identifier_value', 'activity.identifier_type') }}
    group by identifier_type, identifier_value, activity_date
),

identifier_spine as (
    -- every day from the identifier's first activity to the log's clock
    select
        first_days.identifier_type,
        first_days.identifier_value,
        first_days.first_activity_date,
        log_clock.clock_date,
        {{ day_series('first_days.first_activity_date', 'log_clock.clock_date', 'feature_date') }}
    from (
        select
            identifier_type,
            identifier_value,
            min(activity_date) as first_activity_date
        from identifier_daily
        group by identifier_type, identifier_value
    ) as first_days
    cross join log_clock
),

identifier_days as (
    select
        identifier_spine.identifier_type,
        identifier_spine.identifier_value,
        identifier_spine.feature_date,
        identifier_spine.first_activity_date,
        identifier_spine.clock_date,
        {%- for measure in daily_measures %}
        coalesce(identifier_daily.{{ measure }}, 0) as {{ measure }},
        {%- endfor %}
        case when identifier_daily.event_count > 0 then identifier_spine.feature_date end as active_date
    from identifier_spine
    left join identifier_daily
        on
            identifier_spine.identifier_type = identifier_daily.identifier_type
            and identifier_spine.identifier_value = identifier_daily.identifier_value
            and identifier_spine.feature_date = identifier_daily.activity_date
),

identifier_windows as (
    -- additive windows per identifier; a person's are the sums over its identifiers
    select
        identifier_days.*,
        sum(identifier_days.page_view_count) over last_7_days as page_views_7d,
        sum(identifier_days.product_view_count) over last_7_days as product_views_7d,
        sum(identifier_days.add_to_cart_count) over last_7_days as add_to_carts_7d,
        sum(identifier_days.order_count) over to_date as orders_to_date,
        sum(identifier_days.order_amount) over to_date as order_amount_to_date,
        max(identifier_days.active_date) over to_date as last_active_date
    from identifier_days
    window
        by_day as (
            partition by identifier_days.identifier_type, identifier_days.identifier_value
            order by identifier_days.feature_date
        ),
        last_7_days as (by_day rows between 6 preceding and current row),
        to_date as (by_day rows between unbounded preceding and current row)
),

keyed_days as (
    -- the person each identifier belonged to at the end of the day
    select
        identifier_windows.*,
        key_periods.person_key
    from identifier_windows
    inner join key_periods
        on
            identifier_windows.identifier_type = key_periods.identifier_type
            and identifier_windows.identifier_value = key_periods.identifier_value
            and key_periods.valid_from < {{ dbt.dateadd('day', 1, 'identifier_windows.feature_date') }}
            and (
                key_periods.valid_to is null
                or key_periods.valid_to >= {{ dbt.dateadd('day', 1, 'identifier_windows.feature_date') }}
            )
),

person_days as (
    select
        person_key,
        feature_date,
        min(first_activity_date) as first_activity_date,
        min(clock_date) as clock_date,
        {%- for measure in daily_measures %}
        sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        sum(page_views_7d) as page_views_7d,
        sum(product_views_7d) as product_views_7d,
        sum(add_to_carts_7d) as add_to_carts_7d,
        sum(orders_to_date) as orders_to_date,
        sum(order_amount_to_date) as order_amount_to_date,
        max(last_active_date) as last_active_date
    from keyed_days
    group by person_key, feature_date
),

person_active_days as (
    -- days with web activity on any of the person's identifiers in the 28 days ending that day
    select
        keyed_days.person_key,
        keyed_days.feature_date,
        count(distinct identifier_daily.activity_date) as active_days_28d
    from keyed_days
    inner join identifier_daily
        on
            keyed_days.identifier_type = identifier_daily.identifier_type
            and keyed_days.identifier_value = identifier_daily.identifier_value
            and keyed_days.feature_date >= identifier_daily.activity_date
            and {{ dbt.dateadd('day', -28, 'keyed_days.feature_date') }} < identifier_daily.activity_date
            and identifier_daily.event_count > 0
    group by keyed_days.person_key, keyed_days.feature_date
),

final as (
    select
        {{ hash_key(['person_days.person_key', 'person_days.feature_date']) }} as person_day_key,
        person_days.person_key,
        person_days.feature_date,
        person_days.feature_date < person_days.clock_date as is_complete_day,
        cast(person_days.event_count as bigint) as events_1d,
        cast(person_days.page_view_count as bigint) as page_views_1d,
        cast(person_days.product_view_count as bigint) as product_views_1d,
        cast(person_days.add_to_cart_count as bigint) as add_to_carts_1d,
        cast(person_days.checkout_count as bigint) as checkouts_1d,
        cast(person_days.order_count as bigint) as orders_1d,
        cast(person_days.page_views_7d as bigint) as page_views_7d,
        cast(person_days.product_views_7d as bigint) as product_views_7d,
        cast(person_days.add_to_carts_7d as bigint) as add_to_carts_7d,
        cast(coalesce(person_active_days.active_days_28d, 0) as bigint) as active_days_28d,
        cast(person_days.orders_to_date as bigint) as orders_to_date,
        cast(person_days.order_amount_to_date as decimal(38, 2)) as order_amount_to_date,
        {{ days_between('person_days.first_activity_date', 'person_days.feature_date') }} as days_since_first_seen,
        {{ days_between('person_days.last_active_date', 'person_days.feature_date') }} as days_since_last_active
    from person_days
    left join person_active_days
        on
            person_days.person_key = person_active_days.person_key
            and person_days.feature_date = person_active_days.feature_date
)

select * from final
