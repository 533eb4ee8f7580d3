-- Grain: one row per payment (payment_id, from the processor's events), plus one row per order
-- that no payment was matched to (payment_id null). A payment is matched to an order by the
-- order reference it carries (match_method reference) when that order is in the log; else to an
-- order of the same person with the same amount and currency that was placed at most
-- var('identity_payment_match_window_hours') hours before the payment (person_amount_window),
-- one to one: a pair is kept when each is the other's best candidate (for a payment: the order
-- without a referenced payment first, then the closest in time, then by id; for an order: a
-- captured payment first, so a failed attempt never takes its retry's place, then the closest
-- in time); else it is unmatched.
with

payments as (
    select
        payment_id,
        order_reference,
        payment_customer_id,
        amount,
        currency,
        first_occurred_at,
        is_captured,
        is_failed
    from {{ ref('int_identity__payments') }}
),

orders as (
    select
        order_id,
        user_id,
        email_hash,
        ordered_at,
        currency,
        total_amount
    from {{ ref('stg_shop__orders') }}
),

person_map as (
    select
        identifier_type,
        identifier_value,
        person_key
    from {{ ref('int_identity__person_map') }}
),

payments_with_person as (
    select
        payments.*,
        person_map.person_key
    from payments
    left join person_map
        on
            person_map.identifier_type = 'payment_customer_id'
            and payments.payment_customer_id = person_map.identifier_value
),

orders_with_person as (
    select
        orders.*,
        coalesce(account_people.person_key, email_people.person_key) as person_key
    from orders
    left join person_map as account_people
        on account_people.identifier_type = 'user_id' and orders.user_id = account_people.identifier_value
    left join person_map as email_people
        on email_people.identifier_type = 'email_hash' and orders.email_hash = email_people.identifier_value
),

reference_matches as (
    select
        payments_with_person.payment_id,
        orders_with_person.order_id
    from payments_with_person
    inner join orders_with_person on payments_with_person.order_reference = orders_with_person.order_id
),

referenced_orders as (
    select distinct order_id
    from reference_matches
),

window_candidates as (
    select
        payments_with_person.payment_id,
        orders_with_person.order_id,
        row_number() over (
            partition by payments_with_person.payment_id
            order by
                case when referenced_orders.order_id is null then 0 else 1 end,
                {{ seconds_between('orders_with_person.ordered_at', 'payments_with_person.first_occurred_at') }},
                orders_with_person.order_id
        ) as order_choice,
        row_number() over (
            partition by orders_with_person.order_id
            order by
                case when payments_with_person.is_captured then 0 else 1 end,
                {{ seconds_between('orders_with_person.ordered_at', 'payments_with_person.first_occurred_at') }},
                payments_with_person.payment_id
        ) as payment_choice
    from payments_with_person
    inner join orders_with_person
        on
            payments_with_person.person_key = orders_with_person.person_key
            and payments_with_person.currency = orders_with_person.currency
            and payments_with_person.amount = orders_with_person.total_amount
            and payments_with_person.first_occurred_at >= orders_with_person.ordered_at
            and payments_with_person.first_occurred_at
            <= {{ dbt.dateadd('hour', var('identity_payment_match_window_hours'), 'orders_with_person.ordered_at') }}
    left join reference_matches on payments_with_person.payment_id = reference_matches.payment_id
    left join referenced_orders on orders_with_person.order_id = referenced_orders.order_id
    where reference_matches.payment_id is null
),

window_matches as (
    select
        payment_id,
        order_id
    from window_candidates
    where order_choice = 1 and payment_choice = 1
),

matches as (
    select
        payment_id,
        order_id,
        'reference' as match_method
    from reference_matches
    union all
    select
        payment_id,
        order_id,
        'person_amount_window' as match_method
    from window_matches
),

matched_payments as (
    select
        payments_with_person.payment_id,
        matches.order_id,
        coalesce(matches.match_method, 'unmatched') as match_method
    from payments_with_person
    left join matches on payments_with_person.payment_id = matches.payment_id
),

unmatched_orders as (
    select
        cast(null as {{ dbt.type_string() }}) as payment_id,
        orders_with_person.order_id,
        'unmatched' as match_method
    from orders_with_person
    left join matches on orders_with_person.order_id = matches.order_id
    where matches.order_id is null
),

all_rows as (
    select * from matched_payments
    union all
    select * from unmatched_orders
),

final as (
    select
        {{ hash_key(['all_rows.payment_id', 'all_rows.order_id']) }} as match_key,
        all_rows.payment_id,
        all_rows.order_id,
        all_rows.match_method,
        payments_with_person.payment_customer_id,
        payments_with_person.order_reference,
        coalesce(payments_with_person.person_key, orders_with_person.person_key) as person_key,
        payments_with_person.person_key as payment_person_key,
        orders_with_person.person_key as order_person_key,
        payments_with_person.amount as payment_amount,
        payments_with_person.currency as payment_currency,
        orders_with_person.total_amount as order_amount,
        orders_with_person.currency as order_currency,
        payments_with_person.first_occurred_at as payment_occurred_at,
        orders_with_person.ordered_at,
        payments_with_person.is_captured,
        payments_with_person.is_failed
    from all_rows
    left join payments_with_person on all_rows.payment_id = payments_with_person.payment_id
    left join orders_with_person on all_rows.order_id = orders_with_person.order_id
)

select * from final
