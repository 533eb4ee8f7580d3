-- Grain: one row per catalogue event (product created or price changed).
with

events as (
    select * from {{ ref('base_raw__lines') }}
    where
        line_status = 'staged'
        and source_system = 'catalog'
        and {{ as_of_condition('loaded_at') }}
),

final as (
    select
        event_id,
        event_type,
        prop_product_id as product_id,
        event_at as changed_at,
        loaded_at,
        received_at,
        prop_name as product_name,
        prop_category as category,
        {{ safe_cast('coalesce(prop_new_price, prop_price)', 'decimal(18, 2)') }} as price,
        {{ safe_cast('prop_old_price', 'decimal(18, 2)') }} as previous_price,
        prop_currency as currency
    from events
)

select * from final
