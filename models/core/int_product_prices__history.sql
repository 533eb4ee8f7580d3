-- Grain: one row per product and price interval (product_id, valid_from): the full price
-- history (SCD2) derived straight from the catalogue's change events, on the log's clock
-- (loaded_at, the load time). Unlike the snapshot, it holds every load's price, however many
-- runs skipped, and a rebuild gives it back exactly: prefer it for analysis; the snapshot records
-- what the scheduled runs saw. Changes loaded together collapse to the last of them (by
-- received_at, change time, event id): at no load time was an earlier one the known price.
with

product_events as (
    select
        product_id,
        price,
        currency,
        changed_at,
        loaded_at,
        received_at,
        event_id
    from {{ ref('stg_catalog__product_events') }}
),

last_of_load as (
    -- per product and load: the last change in it
    select *
    from product_events
    qualify row_number() over (
        partition by product_id, loaded_at
        order by received_at desc, changed_at desc, event_id desc
    ) = 1
),

ordered as (
    select
        last_of_load.*,
        lead(last_of_load.loaded_at) over (
            partition by last_of_load.product_id
            order by last_of_load.loaded_at
        ) as next_loaded_at
    from last_of_load
),

final as (
    select
        {{ hash_key(['product_id', 'loaded_at', 'event_id']) }} as price_version_key,
        product_id,
        price,
        currency,
        changed_at as price_changed_at,
        received_at as price_received_at,
        loaded_at as valid_from,
        next_loaded_at as valid_to,
        next_loaded_at is null as is_current
    from ordered
)

select * from final
