-- Grain: one row per order refund event.
with

events as (
    select * from {{ ref('base_raw__lines') }}
    where
        line_status = 'staged'
        and event_type = 'order_refunded'
        and {{ as_of_condition('loaded_at') }}
),

final as (
    select
        event_id,
        order_id,
        event_at as refunded_at,
        loaded_at,
        received_at,
        {{ safe_cast('prop_amount', 'decimal(18, 2)') }} as amount,
        prop_currency as currency,
        prop_reason as reason
    from events
)

select * from final
