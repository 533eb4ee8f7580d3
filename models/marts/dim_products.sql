-- Grain: one row per product version (product_id, valid_from): the catalogue as the warehouse
-- knew it over the log's clock (SCD2 on the load time). A version starts at each load that
-- changed the product's name, category, price or currency, and ends at the next one. The name
-- and category are those of the product's latest `product_created` event loaded by then (a
-- catalogue may re-send it to rename), the price that of int_product_prices__history.
with

catalog_events as (
    select * from {{ ref('stg_catalog__product_events') }}
),

price_history as (
    select * from {{ ref('int_product_prices__history') }}
),

change_points as (
    -- every load that brought a catalogue event of the product
    select distinct
        product_id,
        loaded_at
    from catalog_events
),

described as (
    -- per change point, the latest name and category known at it
    select
        change_points.product_id,
        change_points.loaded_at,
        descriptions.product_name,
        descriptions.category
    from change_points
    left join catalog_events as descriptions
        on
            change_points.product_id = descriptions.product_id
            and descriptions.event_type = 'product_created'
            and change_points.loaded_at >= descriptions.loaded_at
    qualify row_number() over (
        partition by change_points.product_id, change_points.loaded_at
        order by descriptions.loaded_at desc, descriptions.received_at desc, descriptions.event_id desc
    ) = 1
),

states as (
    select
        described.product_id,
        described.loaded_at,
        described.product_name,
        described.category,
        price_history.price,
        price_history.currency
    from described
    left join price_history
        on
            described.product_id = price_history.product_id
            and {{ version_in_force('price_history', 'described.loaded_at') }}
),

compared as (
    select
        states.*,
        lag(states.loaded_at) over (partition by states.product_id order by states.loaded_at) as previous_loaded_at,
        lag(states.product_name) over (partition by states.product_id order by states.loaded_at) as previous_name,
        lag(states.category) over (partition by states.product_id order by states.loaded_at) as previous_category,
        lag(states.price) over (partition by states.product_id order by states.loaded_at) as previous_price,
        lag(states.currency) over (partition by states.product_id order by states.loaded_at) as previous_currency
    from states
),

versions as (
    -- a change point that changed nothing (a re-sent event) extends the version before it
    select *
    from compared
    where
        previous_loaded_at is null
        or product_name is distinct from previous_name
        or category is distinct from previous_category
        or price is distinct from previous_price
        or currency is distinct from previous_currency
),

final as (
    select
        {{ hash_key(['product_id', 'loaded_at']) }} as product_version_key,
        product_id,
        product_name,
        category,
        price,
        currency,
        loaded_at as valid_from,
        lead(loaded_at) over (partition by product_id order by loaded_at) as valid_to,
        lead(loaded_at) over (partition by product_id order by loaded_at) is null as is_current
    from versions
)

select * from final
