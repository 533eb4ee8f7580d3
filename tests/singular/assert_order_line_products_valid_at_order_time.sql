-- Every order line's product version was in force when the warehouse loaded the order, and a
-- line has no version only when no version of its product was in force then. Rows returned
-- are lines that break it.
with

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

in_force as (
    select
        order_lines.order_line_id,
        products.product_version_key
    from order_lines
    inner join products
        on
            order_lines.product_id = products.product_id
            and {{ version_in_force('products', 'order_lines.order_loaded_at') }}
)

select
    order_lines.order_line_id,
    order_lines.product_version_key,
    in_force.product_version_key as version_in_force
from order_lines
left join in_force on order_lines.order_line_id = in_force.order_line_id
where order_lines.product_version_key is distinct from in_force.product_version_key
