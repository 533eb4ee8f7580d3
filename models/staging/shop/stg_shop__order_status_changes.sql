-- Grain: one row per order status change event.
with

events as (
    select * from {{ ref('base_raw__lines') }}
    where
        line_status = 'staged'
        and event_type = 'order_status_changed'
        and {{ as_of_condition('loaded_at') }}
),

final as (
    select
        event_id,
        order_id,
        event_at as changed_at,
        loaded_at,
        received_at,
        prop_status as status,
        prop_previous_status as previous_status
    from events
)

select * from final
