-- Grain: one row per product: its current catalogue state (latest catalogue event by the log's
-- clock: load time, then received_at, change time and event id), the source of the product
-- price snapshot (updated_at: price_loaded_at).
with

product_events as (
    select * from {{ ref('stg_catalog__product_events') }}
),

products as (
    select
        product_id,
        max(product_name) as product_name,
        max(category) as category
    from product_events
    where event_type = 'product_created'
    group by product_id
),

latest_price as (
    select
        product_id,
        price,
        currency,
        changed_at,
        loaded_at,
        received_at
    from product_events
    qualify row_number() over (
        partition by product_id order by loaded_at desc, received_at desc, changed_at desc, event_id desc
    ) = 1
),

final as (
    select
        latest_price.product_id,
        products.product_name,
        products.category,
        latest_price.price,
        latest_price.currency,
        latest_price.changed_at as price_changed_at,
        latest_price.loaded_at as price_loaded_at,
        latest_price.received_at as price_received_at
    from latest_price
    left join products on latest_price.product_id = products.product_id
)

select * from final
