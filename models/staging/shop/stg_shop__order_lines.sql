-- Grain: one row per line of an order (order_id, line_number).
with

orders as (
    select
        order_id,
        order_lines_json
    from {{ ref('stg_shop__orders') }}
),

unnested as (
    select
        orders.order_id,
        {{ unnest_json_array('orders.order_lines_json', 'line_json', 'line_number') }}
    from orders
),

line_fields as (
    select
        order_id,
        line_number,
        {{ json_extract_texts('line_json', ['$.product_id', '$.quantity', '$.unit_price']) }} as field_texts
    from unnested
),

final as (
    select
        {{ hash_key(['order_id', 'line_number']) }} as order_line_id,
        order_id,
        line_number,
        {{ list_element('field_texts', 1) }} as product_id,
        {{ safe_cast(list_element('field_texts', 2), 'integer') }} as quantity,
        {{ safe_cast(list_element('field_texts', 3), 'decimal(18, 2)') }} as unit_price
    from line_fields
)

select * from final
