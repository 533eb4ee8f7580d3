-- Grain: one row per observed link: an event that names two identifiers of one person
-- (identifier_key_a < identifier_key_b). Links come from signup, login and identify events
-- (anonymous_id, user_id, email_hash), orders (user_id–email_hash) and payments
-- (payment_customer_id–the referenced order's user_id and email_hash; two customer ids on one
-- payment). `received_at` is when the link became visible in the log.
with

web_events as (
    select
        event_id,
        event_type,
        event_at,
        received_at,
        anonymous_id,
        user_id,
        email_hash
    from {{ ref('stg_web__events') }}
    where event_type in ('signup', 'login', 'identify')
),

orders as (
    select
        order_id,
        event_id,
        ordered_at,
        received_at,
        user_id,
        email_hash
    from {{ ref('stg_shop__orders') }}
),

payment_events as (
    select
        event_id,
        payment_id,
        payment_customer_id,
        order_reference,
        occurred_at,
        received_at
    from {{ ref('stg_payments__payment_events') }}
    where payment_id is not null
),

payment_references as (
    -- the order a payment references (any of its events may carry it) and when that was known
    select
        payment_id,
        min(order_reference) as order_id,
        min(received_at) as referenced_received_at
    from payment_events
    where order_reference is not null
    group by payment_id
),

web_links as (
    select
        'anonymous_id' as type_a,
        anonymous_id as value_a,
        'user_id' as type_b,
        user_id as value_b,
        event_type as link_source,
        event_id,
        event_at as linked_at,
        received_at
    from web_events
    where anonymous_id is not null and user_id is not null
    union all
    select
        'user_id' as type_a,
        user_id as value_a,
        'email_hash' as type_b,
        email_hash as value_b,
        event_type as link_source,
        event_id,
        event_at as linked_at,
        received_at
    from web_events
    where user_id is not null and email_hash is not null
    union all
    select
        'anonymous_id' as type_a,
        anonymous_id as value_a,
        'email_hash' as type_b,
        email_hash as value_b,
        event_type as link_source,
        event_id,
        event_at as linked_at,
        received_at
    from web_events
    where anonymous_id is not null and email_hash is not null
),

order_links as (
    select
        'user_id' as type_a,
        user_id as value_a,
        'email_hash' as type_b,
        email_hash as value_b,
        'order_created' as link_source,
        event_id,
        ordered_at as linked_at,
        received_at
    from orders
    where user_id is not null and email_hash is not null
),

payment_orders as (
    select
        payment_events.event_id,
        payment_events.payment_customer_id,
        payment_events.occurred_at,
        orders.user_id,
        orders.email_hash,
        greatest(
            payment_events.received_at,
            payment_references.referenced_received_at,
            orders.received_at
        ) as received_at
    from payment_events
    inner join payment_references on payment_events.payment_id = payment_references.payment_id
    inner join orders on payment_references.order_id = orders.order_id
    where payment_events.payment_customer_id is not null
),

payment_links as (
    select
        'payment_customer_id' as type_a,
        payment_customer_id as value_a,
        'user_id' as type_b,
        user_id as value_b,
        'payment_order_reference' as link_source,
        event_id,
        occurred_at as linked_at,
        received_at
    from payment_orders
    where user_id is not null
    union all
    select
        'payment_customer_id' as type_a,
        payment_customer_id as value_a,
        'email_hash' as type_b,
        email_hash as value_b,
        'payment_order_reference' as link_source,
        event_id,
        occurred_at as linked_at,
        received_at
    from payment_orders
    where email_hash is not null
    union all
    select
        'payment_customer_id' as type_a,
        first_event.payment_customer_id as value_a,
        'payment_customer_id' as type_b,
        second_event.payment_customer_id as value_b,
        'same_payment' as link_source,
        second_event.event_id,
        greatest(first_event.occurred_at, second_event.occurred_at) as linked_at,
        greatest(first_event.received_at, second_event.received_at) as received_at
    from payment_events as first_event
    inner join payment_events as second_event
        on
            first_event.payment_id = second_event.payment_id
            and first_event.payment_customer_id < second_event.payment_customer_id
),

all_links as (
    select * from web_links
    union all
    select * from order_links
    union all
    select * from payment_links
),

keyed as (
    select
        all_links.*,
        concat(all_links.type_a, ':', all_links.value_a) as key_a,
        concat(all_links.type_b, ':', all_links.value_b) as key_b
    from all_links
),

final as (
    select
        link_source,
        event_id,
        linked_at,
        received_at,
        case when key_a < key_b then key_a else key_b end as identifier_key_a,
        case when key_a < key_b then type_a else type_b end as identifier_type_a,
        case when key_a < key_b then value_a else value_b end as identifier_value_a,
        case when key_a < key_b then key_b else key_a end as identifier_key_b,
        case when key_a < key_b then type_b else type_a end as identifier_type_b,
        case when key_a < key_b then value_b else value_a end as identifier_value_b
    from keyed
    where key_a != key_b
)

select * from final
