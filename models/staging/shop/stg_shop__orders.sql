-- Grain: one row per order (the order_created event, deduplicated on event_id).
with

events as (
    select * from {{ ref('stg_raw__events') }}
    where line_status = 'staged' and event_type = 'order_created'
),

final as (
    select
        order_id,
        event_id,
        event_at as ordered_at,
        received_at,
        user_id,
        email_hash,
        prop_currency as currency,
        {{ dbt.safe_cast('prop_total_amount', 'decimal(18, 2)') }} as total_amount,
        prop_lines as order_lines_json
    from events
)

select * from final
