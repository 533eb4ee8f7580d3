-- Grain: one row per payment of the processor (payment_id), rolled up from its events: the order
-- reference any of them carries and when it was first loaded, its customer id, amount, currency
-- and time (from the authorisation, capture or failure, not the refund), whether it was captured
-- or failed, its first event, and its first and last load times (the log's clock; received_at
-- within the load as a tie-breaker).
with

payment_events as (
    select * from {{ ref('stg_payments__payment_events') }}
    where payment_id is not null
),

ranked_events as (
    select
        payment_events.*,
        row_number() over (
            partition by payment_events.payment_id
            order by
                case when payment_events.event_type = 'payment_refunded' then 1 else 0 end,
                payment_events.occurred_at,
                payment_events.event_id
        ) as event_rank
    from payment_events
),

load_bounds as (
    -- per payment: the load that first carried its order reference, its first load and the
    -- last load of an authorisation, capture or failure (the log's clock)
    select
        payment_events.*,
        min(case when payment_events.order_reference is not null then payment_events.loaded_at end)
            over (partition by payment_events.payment_id) as referenced_loaded_at,
        min(payment_events.loaded_at) over (partition by payment_events.payment_id) as first_loaded_at,
        max(case when payment_events.event_type != 'payment_refunded' then payment_events.loaded_at end)
            over (partition by payment_events.payment_id) as last_loaded_at
    from payment_events
),

first_events as (
    select
        payment_id,
        event_id as first_event_id
    from ranked_events
    where event_rank = 1
),

rolled_up as (
    select
        payment_id,
        min(order_reference) as order_reference,
        min(referenced_loaded_at) as referenced_loaded_at,
        -- received_at within that load: a tie-breaker that later loads cannot change
        min(
            case when order_reference is not null and loaded_at = referenced_loaded_at then received_at end
        ) as referenced_received_at,
        min(payment_customer_id) as payment_customer_id,
        max(case when event_type != 'payment_refunded' then amount end) as amount,
        min(case when event_type != 'payment_refunded' then currency end) as currency,
        min(case when event_type != 'payment_refunded' then occurred_at end) as first_occurred_at,
        min(first_loaded_at) as first_loaded_at,
        min(case when loaded_at = first_loaded_at then received_at end) as first_received_at,
        max(last_loaded_at) as last_loaded_at,
        max(
            case when event_type != 'payment_refunded' and loaded_at = last_loaded_at then received_at end
        ) as last_received_at,
        count(case when event_type = 'payment_captured' then 1 end) > 0 as is_captured,
        count(case when event_type = 'payment_failed' then 1 end) > 0 as is_failed
    from load_bounds
    group by payment_id
),

final as (
    select
        rolled_up.*,
        first_events.first_event_id
    from rolled_up
    inner join first_events on rolled_up.payment_id = first_events.payment_id
)

select * from final
