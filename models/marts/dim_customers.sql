-- Grain: one row per customer: a person who has an account or has placed at least one order
-- (persons who asked to be forgotten are left out). Money is summed from fct_orders in the
-- customer's one currency: ordered (gross), refunded, net of refunds, and captured and net
-- revenue, the last two unknown (null) when the log records no payments.
with

person_map as (
    -- persons who asked to be forgotten are left out
    select * from {{ ref('int_identity__person_map') }} as person_map
    where not {{ is_erased('person_map.person_key') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

accounts as (
    select
        person_key,
        min(user_id) as user_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from person_map
    group by person_key
    having count(case when identifier_type = 'user_id' then 1 end) > 0
),

order_totals as (
    select
        person_key,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) as order_count,
        -- null when no order's payment state is known (payments not recorded)
        cast(sum(case when is_paid then 1 when not is_paid then 0 end) as bigint) as paid_order_count,
        count(distinct currency) as currency_count,
        min(currency) as currency,
        sum(total_amount) as gross_order_amount,
        sum(refunded_amount) as refunded_amount,
        sum(net_ordered_amount) as net_ordered_amount,
        sum(captured_amount) as captured_amount,
        sum(net_revenue) as net_revenue
    from orders
    where person_key is not null
    group by person_key
),

guests as (
    select
        person_key,
        cast(null as {{ dbt.type_string() }}) as user_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from person_map
    where person_key in (select order_totals.person_key from order_totals)
    group by person_key
    having count(case when identifier_type = 'user_id' then 1 end) = 0
),

customers as (
    select * from accounts
    union all
    select * from guests
),

payment_log as (
    -- one row: whether the log records payments (an order says so; no order, no payments)
    select coalesce(max(case when is_payment_recorded then 1 else 0 end), 0) = 1 as is_payment_recorded
    from orders
),

money as (
    -- customers who ordered in one currency: their sums in it
    select
        person_key,
        paid_order_count,
        currency,
        gross_order_amount,
        refunded_amount,
        net_ordered_amount,
        captured_amount,
        net_revenue
    from order_totals
    where currency_count = 1
    union all
    -- customers who never ordered: nothing, and nothing paid if payments are recorded
    select
        customers.person_key,
        case when payment_log.is_payment_recorded then 0 end as paid_order_count,
        null as currency,
        0 as gross_order_amount,
        0 as refunded_amount,
        0 as net_ordered_amount,
        case when payment_log.is_payment_recorded then 0 end as captured_amount,
        case when payment_log.is_payment_recorded then 0 end as net_revenue
    from customers
    cross join payment_log
    where customers.person_key not in (select order_totals.person_key from order_totals)
    -- customers who ordered in several currencies have no row: their money is null
),

session_totals as (
    select
        person_key,
        count(*) as session_count
    from sessions
    where person_key is not null
    group by person_key
),

final as (
    select
        customers.person_key,
        customers.user_id,
        customers.first_seen_at,
        customers.last_seen_at,
        order_totals.first_ordered_at,
        order_totals.last_ordered_at,
        customers.user_id is not null as is_registered,
        coalesce(order_totals.order_count, 0) as order_count,
        coalesce(money.paid_order_count, order_totals.paid_order_count) as paid_order_count,
        coalesce(session_totals.session_count, 0) as session_count,
        money.currency,
        money.gross_order_amount,
        money.refunded_amount,
        money.net_ordered_amount,
        money.captured_amount,
        money.net_revenue
    from customers
    left join order_totals on customers.person_key = order_totals.person_key
    left join money on customers.person_key = money.person_key
    left join session_totals on customers.person_key = session_totals.person_key
)

select * from final
