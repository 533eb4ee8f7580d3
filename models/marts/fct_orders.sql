-- Grain: one row per order, with what was ordered (gross), refunded and paid for it, each in
-- the order's currency. The orders of a person who asked to be forgotten stay (they are the
-- shop's books) with the person columns blanked.
with

orders as (
    select * from {{ ref('int_orders__with_payments') }}
),

erased_orders as (
    select orders.order_id
    from orders
    where {{ is_erased('orders.person_key') }}
),

erasures as (
    select
        orders.order_id,
        erased_orders.order_id is not null as is_person_erased
    from orders
    left join erased_orders on orders.order_id = erased_orders.order_id
),

final as (
    select
        orders.order_id,
        case when not erasures.is_person_erased then orders.person_key end as person_key,
        case when not erasures.is_person_erased then orders.user_id end as user_id,
        erasures.is_person_erased,
        orders.is_guest_checkout,
        case
            when orders.person_key is not null
                then row_number() over (partition by orders.person_key order by orders.ordered_at, orders.order_id)
        end as customer_order_number,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.currency,
        orders.total_amount,
        orders.refunded_amount,
        orders.total_amount - orders.refunded_amount as net_ordered_amount,
        orders.line_count,
        orders.item_count,
        orders.order_status,
        orders.status_changed_at,
        orders.payment_attempt_count,
        orders.failed_payment_count,
        orders.is_payment_recorded,
        orders.captured_amount,
        orders.is_paid,
        orders.captured_amount - orders.refunded_amount as net_revenue
    from orders
    inner join erasures on orders.order_id = erasures.order_id
)

select * from final
