-- Grain: one row per order_id: its first order_created event (first loaded: load time, then
-- load, file and line; never a producer-written timestamp). A producer that reuses an order id
-- for another order_created event cannot make two orders of one id; `order_created_events`
-- counts them, so it shows.
with

events as (
    select * from {{ ref('base_raw__lines') }}
    where
        line_status = 'staged'
        and event_type = 'order_created'
        and {{ as_of_condition('loaded_at') }}
),

ranked as (
    select
        events.*,
        count(*) over (partition by events.order_id) as order_created_events
    from events
    qualify
        row_number() over (
            partition by events.order_id
            order by events.loaded_at, events.load_id, events.file_path, events.line_number
        ) = 1
),

final as (
    select
        order_id,
        event_id,
        event_at as ordered_at,
        loaded_at,
        received_at,
        user_id,
        email_hash,
        prop_currency as currency,
        {{ safe_cast('prop_total_amount', 'decimal(18, 2)') }} as total_amount,
        prop_lines as order_lines_json,
        order_created_events
    from ranked
)

select * from final
