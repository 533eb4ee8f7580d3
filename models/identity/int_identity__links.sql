-- Grain: one row per observed link: an event that names two identifiers of one person
-- (identifier_key_a < identifier_key_b). Links come from signup, login and identify events
-- (anonymous_id, user_id, email_hash), orders (user_id–email_hash) and payments
-- (payment_customer_id–the referenced order's user_id and email_hash; two customer ids on one
-- payment). A payment without an order reference, by a customer id that no referenced payment
-- carries, links its customer id to an order only when the match is unambiguous: the payment has
-- exactly one order of its amount and currency placed at most
-- var('identity_payment_match_window_hours') hours before it and not already paid by a captured
-- payment that references it, and that order has candidate payments of that one customer id.
-- `loaded_at` is when the link became visible (the log's clock: the latest load time of the
-- events it needs); `received_at`, the latest collector time among those of them in that load,
-- only breaks ties within one load. The amount-window conditions are judged on the
-- whole log: a later event (the reference arriving on a capture, another candidate) can withdraw
-- such a link, so for the customer ids it touches the key periods are exact as of the current
-- log only.
with

web_events as (
    select
        event_id,
        event_type,
        event_at,
        loaded_at,
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
        loaded_at,
        received_at,
        user_id,
        email_hash,
        currency,
        total_amount
    from {{ ref('stg_shop__orders') }}
),

payment_events as (
    select
        event_id,
        payment_id,
        payment_customer_id,
        order_reference,
        occurred_at,
        loaded_at,
        received_at
    from {{ ref('stg_payments__payment_events') }}
    where payment_id is not null
),

payments as (
    select
        payment_id,
        order_reference,
        referenced_loaded_at,
        referenced_received_at,
        payment_customer_id,
        amount,
        currency,
        first_occurred_at,
        last_loaded_at,
        last_received_at,
        first_event_id,
        is_captured
    from {{ ref('int_identity__payments') }}
),

payment_references as (
    -- the order a payment references (any of its events may carry it) and when that was known
    select
        payment_id,
        order_reference as order_id,
        referenced_loaded_at,
        referenced_received_at
    from payments
    where order_reference is not null
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
        loaded_at,
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
        loaded_at,
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
        loaded_at,
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
        loaded_at,
        received_at
    from orders
    where user_id is not null and email_hash is not null
),

payment_order_times as (
    select
        payment_events.event_id,
        payment_events.payment_customer_id,
        payment_events.occurred_at,
        orders.user_id,
        orders.email_hash,
        payment_events.loaded_at as event_loaded_at,
        payment_events.received_at as event_received_at,
        payment_references.referenced_loaded_at,
        payment_references.referenced_received_at,
        orders.loaded_at as order_loaded_at,
        orders.received_at as order_received_at,
        greatest(
            payment_events.loaded_at,
            payment_references.referenced_loaded_at,
            orders.loaded_at
        ) as loaded_at
    from payment_events
    inner join payment_references on payment_events.payment_id = payment_references.payment_id
    inner join orders on payment_references.order_id = orders.order_id
    where payment_events.payment_customer_id is not null
),

payment_orders as (
    -- visible once the event, the reference and the order are all loaded; the tie-breaker is the
    -- latest received_at among those loaded last (greatest skips the nulls)
    select
        event_id,
        payment_customer_id,
        occurred_at,
        user_id,
        email_hash,
        loaded_at,
        greatest(
            case when event_loaded_at = loaded_at then event_received_at end,
            case when referenced_loaded_at = loaded_at then referenced_received_at end,
            case when order_loaded_at = loaded_at then order_received_at end
        ) as received_at
    from payment_order_times
),

anchored_customers as (
    -- customer ids already linked to a person through a referenced order
    select distinct payment_customer_id
    from payment_orders
),

paid_orders as (
    -- orders a captured payment references: already paid, so not a candidate for another payment
    select distinct order_reference as order_id
    from payments
    where order_reference is not null and is_captured
),

window_candidates as (
    select
        payments.payment_id,
        payments.first_event_id,
        payments.payment_customer_id,
        payments.first_occurred_at,
        greatest(payments.last_loaded_at, orders.loaded_at) as loaded_at,
        greatest(
            case when payments.last_loaded_at >= orders.loaded_at then payments.last_received_at end,
            case when orders.loaded_at >= payments.last_loaded_at then orders.received_at end
        ) as received_at,
        orders.order_id,
        orders.user_id,
        orders.email_hash
    from payments
    inner join orders
        on
            payments.currency = orders.currency
            and payments.amount = orders.total_amount
            and payments.first_occurred_at >= orders.ordered_at
            and payments.first_occurred_at
            <= {{ dbt.dateadd('hour', var('identity_payment_match_window_hours'), 'orders.ordered_at') }}
    left join paid_orders on orders.order_id = paid_orders.order_id
    where
        payments.order_reference is null
        and payments.payment_customer_id is not null
        and paid_orders.order_id is null
),

unambiguous_payments as (
    select payment_id
    from window_candidates
    group by payment_id
    having count(distinct order_id) = 1
),

unambiguous_orders as (
    select order_id
    from window_candidates
    group by order_id
    having count(distinct payment_customer_id) = 1
),

window_orders as (
    select window_candidates.*
    from window_candidates
    inner join unambiguous_payments on window_candidates.payment_id = unambiguous_payments.payment_id
    inner join unambiguous_orders on window_candidates.order_id = unambiguous_orders.order_id
    left join anchored_customers
        on window_candidates.payment_customer_id = anchored_customers.payment_customer_id
    where anchored_customers.payment_customer_id is null
),

same_payment_event_pairs as (
    -- an event of a payment naming another customer id than an earlier-sorting one of the same
    -- payment, with each event of that other customer id: the pair is visible once both loaded
    select
        second_event.event_id,
        first_event.payment_customer_id as customer_a,
        second_event.payment_customer_id as customer_b,
        greatest(first_event.occurred_at, second_event.occurred_at) as linked_at,
        greatest(first_event.loaded_at, second_event.loaded_at) as loaded_at,
        case
            when first_event.loaded_at > second_event.loaded_at then first_event.received_at
            when second_event.loaded_at > first_event.loaded_at then second_event.received_at
            else greatest(first_event.received_at, second_event.received_at)
        end as received_at
    from payment_events as first_event
    inner join payment_events as second_event
        on
            first_event.payment_id = second_event.payment_id
            and first_event.payment_customer_id < second_event.payment_customer_id
),

same_payment_first_loads as (
    select
        same_payment_event_pairs.*,
        min(same_payment_event_pairs.loaded_at) over (
            partition by
                same_payment_event_pairs.event_id,
                same_payment_event_pairs.customer_a,
                same_payment_event_pairs.customer_b
        ) as first_loaded_at
    from same_payment_event_pairs
),

same_payment_pairs as (
    -- one link per (event, pair), at the first load that completed the pair (received_at within
    -- that load breaks ties)
    select
        event_id,
        customer_a,
        customer_b,
        min(linked_at) as linked_at,
        min(first_loaded_at) as loaded_at,
        min(case when loaded_at = first_loaded_at then received_at end) as received_at
    from same_payment_first_loads
    group by event_id, customer_a, customer_b
),

payment_order_pairs as (
    -- a payment's customer id with the order it was linked to, and how
    select
        payment_customer_id,
        user_id,
        email_hash,
        'payment_order_reference' as link_source,
        event_id,
        occurred_at as linked_at,
        loaded_at,
        received_at
    from payment_orders
    union all
    select
        payment_customer_id,
        user_id,
        email_hash,
        'payment_amount_window' as link_source,
        first_event_id as event_id,
        first_occurred_at as linked_at,
        loaded_at,
        received_at
    from window_orders
),

payment_links as (
    select
        'payment_customer_id' as type_a,
        payment_customer_id as value_a,
        'user_id' as type_b,
        user_id as value_b,
        link_source,
        event_id,
        linked_at,
        loaded_at,
        received_at
    from payment_order_pairs
    where user_id is not null
    union all
    select
        'payment_customer_id' as type_a,
        payment_customer_id as value_a,
        'email_hash' as type_b,
        email_hash as value_b,
        link_source,
        event_id,
        linked_at,
        loaded_at,
        received_at
    from payment_order_pairs
    where email_hash is not null
    union all
    select
        'payment_customer_id' as type_a,
        customer_a as value_a,
        'payment_customer_id' as type_b,
        customer_b as value_b,
        'same_payment' as link_source,
        event_id,
        linked_at,
        loaded_at,
        received_at
    from same_payment_pairs
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
        loaded_at,
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
