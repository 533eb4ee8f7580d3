-- Grain: one row per product and price interval (product_id, valid_from): the full price
-- history (SCD2) derived straight from the catalogue's change events, on the log's clock
-- (received_at). Unlike the snapshot, it holds every change, however many happened between
-- two runs, and a rebuild gives it back exactly: prefer it for analysis; the snapshot records
-- what the scheduled runs saw.
with

product_events as (
    select
        product_id,
        price,
        currency,
        changed_at,
        received_at,
        event_id
    from {{ ref('stg_catalog__product_events') }}
),

ordered as (
    select
        product_events.*,
        lead(product_events.received_at) over (
            partition by product_events.product_id
            order by product_events.received_at, product_events.changed_at, product_events.event_id
        ) as next_received_at
    from product_events
),

final as (
    select
        {{ hash_key(['product_id', 'received_at', 'event_id']) }} as price_version_key,
        product_id,
        price,
        currency,
        changed_at as price_changed_at,
        received_at as valid_from,
        next_received_at as valid_to,
        next_received_at is null as is_current
    from ordered
)

select * from final
