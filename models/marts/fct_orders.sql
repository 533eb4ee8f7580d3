-- Grain: one row per order, with what was paid for it.
with

orders as (
    select * from {{ ref('int_orders__with_payments') }}
),

final as (
    select
        order_id,
        person_key,
        user_id,
        is_guest_checkout,
        ordered_at,
        cast(ordered_at as date) as order_date,
        currency,
        total_amount,
        line_count,
        item_count,
        order_status,
        status_changed_at,
        payment_attempt_count,
        failed_payment_count,
        captured_amount,
        refunded_amount,
        is_paid,
        captured_amount - refunded_amount as net_revenue
    from orders
)

select * from final
