-- Grain: one row per payment processor event (authorized, captured, failed, refunded).
with

events as (
    select * from {{ ref('base_raw__lines') }}
    where
        line_status = 'staged'
        and source_system = 'payments'
        and {{ as_of_condition('loaded_at') }}
),

final as (
    select
        event_id,
        event_type,
        prop_payment_id as payment_id,
        payment_customer_id,
        order_id as order_reference,
        event_at as occurred_at,
        loaded_at,
        received_at,
        {{ safe_cast('prop_amount', 'decimal(18, 2)') }} as amount,
        prop_currency as currency,
        prop_method as payment_method,
        prop_failure_reason as failure_reason,
        prop_refund_id as refund_id
    from events
)

select * from final
