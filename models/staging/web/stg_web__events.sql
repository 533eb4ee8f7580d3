-- Grain: one row per web clickstream event (deduplicated on event_id). Handles add_to_cart
-- v1 and v2 (renamed fields) into one shape.
with

events as (
    select * from {{ ref('base_raw__lines') }}
    where
        line_status = 'staged'
        and source_system = 'web'
        and {{ as_of_condition('loaded_at') }}
),

final as (
    select
        event_id,
        load_id,
        event_type,
        schema_version,
        event_at,
        loaded_at,
        received_at,
        anonymous_id,
        user_id,
        email_hash,
        page_url,
        page_path,
        referrer,
        host,
        user_agent,
        ip_hash,
        campaign,
        prop_page_type as page_type,
        case
            when event_type = 'add_to_cart' and schema_version = 2 then prop_item_id
            else prop_product_id
        end as product_id,
        {{ safe_cast(
            "case when event_type = 'add_to_cart' and schema_version = 2 then prop_qty else prop_quantity end",
            'integer') }} as quantity,
        {{ safe_cast(
            "case when event_type = 'add_to_cart' and schema_version = 2 then prop_unit_price else prop_price end",
            'decimal(18, 2)') }} as unit_price,
        {{ safe_cast('prop_cart_value', 'decimal(18, 2)') }} as cart_value,
        {{ safe_cast('prop_item_count', 'integer') }} as item_count,
        prop_currency as currency
    from events
)

select * from final
