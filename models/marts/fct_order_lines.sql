-- Grain: one row per line of an order (order_id, line_number), with the product as the
-- warehouse knew it when it knew the order: the dim_products version valid at the order's load
-- time (the log's clock). The line's own unit price is what the customer was charged;
-- list_price is the catalogue's price of that version.
with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

orders as (
    select
        order_id,
        ordered_at,
        loaded_at,
        currency
    from {{ ref('stg_shop__orders') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

final as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.line_number,
        order_lines.product_id,
        products.product_version_key,
        products.product_name,
        products.category,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        orders.loaded_at as order_loaded_at,
        orders.currency,
        order_lines.quantity,
        order_lines.unit_price,
        cast(order_lines.quantity as decimal(20, 0)) * order_lines.unit_price as line_amount,
        products.price as list_price
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    left join products
        on
            order_lines.product_id = products.product_id
            and {{ version_in_force('products', 'orders.loaded_at') }}
)

select * from final
