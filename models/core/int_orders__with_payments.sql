-- Grain: one row per order, with its current status, its person and what the processor says
-- was paid for it (payments matched to orders by the identity layer: by the order reference
-- they carry, else by person, amount, currency and time window). A shop may record orders but
-- not payments: when the log holds no payment event at all, what was paid is unknown (null),
-- not zero.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

status_changes as (
    select * from {{ ref('stg_shop__order_status_changes') }}
),

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

payment_events as (
    select * from {{ ref('stg_payments__payment_events') }}
),

payment_matches as (
    select
        payment_id,
        order_id
    from {{ ref('int_identity__payment_order_matches') }}
    where payment_id is not null and order_id is not null
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

people as (
    select
        identifier_type,
        identifier_value,
        person_key
    from {{ ref('int_identity__person_map') }}
    where identifier_type in ('user_id', 'email_hash')
),

latest_status as (
    select
        order_id,
        status,
        changed_at
    from status_changes
    qualify row_number() over (partition by order_id order by changed_at desc, event_id desc) = 1
),

payment_log as (
    -- one row: whether the log records payments at all
    select count(*) > 0 as is_payment_recorded
    from payment_events
),

line_totals as (
    select
        order_id,
        cast(sum(quantity) as bigint) as item_count,
        count(*) as line_count,
        -- decimal(20, 0) × decimal(18, 2) fits decimal(38, 2): the largest conforming line (10^6
        -- units at 10^12) and any sum of them cannot overflow
        sum(cast(quantity as decimal(20, 0)) * unit_price) as lines_amount
    from order_lines
    group by order_id
),

order_refunds as (
    select
        order_id,
        sum(amount) as refunded_amount
    from refunds
    group by order_id
),

order_payments as (
    select
        payment_matches.order_id,
        count(distinct payment_events.payment_id) as payment_attempt_count,
        count(case when payment_events.event_type = 'payment_failed' then 1 end) as failed_payment_count,
        coalesce(
            sum(case when payment_events.event_type = 'payment_captured' then payment_events.amount end), 0
        ) as captured_amount,
        min(
            case when payment_events.event_type = 'payment_captured' then payment_events.occurred_at end
        ) as first_captured_at
    from payment_events
    inner join payment_matches on payment_events.payment_id = payment_matches.payment_id
    group by payment_matches.order_id
),

final as (
    select
        orders.order_id,
        orders.user_id,
        orders.ordered_at,
        orders.received_at,
        orders.currency,
        orders.total_amount,
        latest_status.changed_at as status_changed_at,
        order_payments.first_captured_at,
        coalesce(account_people.person_key, email_people.person_key) as person_key,
        orders.user_id is null as is_guest_checkout,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_count, 0) as item_count,
        coalesce(line_totals.lines_amount, 0) as lines_amount,
        coalesce(latest_status.status, 'created') as order_status,
        coalesce(order_payments.payment_attempt_count, 0) as payment_attempt_count,
        coalesce(order_payments.failed_payment_count, 0) as failed_payment_count,
        payment_log.is_payment_recorded,
        case
            when payment_log.is_payment_recorded then coalesce(order_payments.captured_amount, 0)
        end as captured_amount,
        coalesce(order_refunds.refunded_amount, 0) as refunded_amount,
        case
            when payment_log.is_payment_recorded
                then coalesce(order_payments.captured_amount, 0) >= orders.total_amount
        end as is_paid
    from orders
    cross join payment_log
    left join people as account_people
        on account_people.identifier_type = 'user_id' and orders.user_id = account_people.identifier_value
    left join people as email_people
        on email_people.identifier_type = 'email_hash' and orders.email_hash = email_people.identifier_value
    left join latest_status on orders.order_id = latest_status.order_id
    left join line_totals on orders.order_id = line_totals.order_id
    left join order_refunds on orders.order_id = order_refunds.order_id
    left join order_payments on orders.order_id = order_payments.order_id
)

select * from final
