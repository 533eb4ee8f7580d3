-- Grain: one row per customer: a person who has an account or has placed at least one order
-- (persons who asked to be forgotten are left out).
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
        count(case when is_paid then 1 end) as paid_order_count,
        count(distinct currency) as currency_count,
        min(currency) as any_currency,
        sum(net_revenue) as net_revenue_all
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
        coalesce(order_totals.paid_order_count, 0) as paid_order_count,
        coalesce(session_totals.session_count, 0) as session_count,
        case when order_totals.currency_count = 1 then order_totals.any_currency end as currency,
        case
            when order_totals.currency_count = 1 then order_totals.net_revenue_all
            when order_totals.person_key is null then 0
        end as net_revenue
    from customers
    left join order_totals on customers.person_key = order_totals.person_key
    left join session_totals on customers.person_key = session_totals.person_key
)

select * from final
