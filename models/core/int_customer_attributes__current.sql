-- Grain: one row per account (user_id): its current attributes by the log's clock, and when
-- the log received the latest change of any of them. The source of the customer attribute
-- snapshot.
with

web_events as (
    select
        user_id,
        email_hash,
        event_type,
        received_at,
        event_id
    from {{ ref('stg_web__events') }}
    where user_id is not null
),

orders as (
    select
        user_id,
        email_hash,
        currency,
        received_at,
        event_id
    from {{ ref('stg_shop__orders') }}
    where user_id is not null
),

email_sightings as (
    select
        user_id,
        email_hash,
        received_at,
        event_id
    from web_events
    where email_hash is not null
    union all
    select
        user_id,
        email_hash,
        received_at,
        event_id
    from orders
    where email_hash is not null
),

current_email as (
    select
        user_id,
        email_hash
    from email_sightings
    qualify row_number() over (
        partition by user_id order by received_at desc, event_id desc
    ) = 1
),

email_since as (
    -- when the log first received the current email of the account
    select
        email_sightings.user_id,
        min(email_sightings.received_at) as email_received_at
    from email_sightings
    inner join current_email
        on
            email_sightings.user_id = current_email.user_id
            and email_sightings.email_hash = current_email.email_hash
    group by email_sightings.user_id
),

current_currency as (
    select
        user_id,
        currency
    from orders
    qualify row_number() over (
        partition by user_id order by received_at desc, event_id desc
    ) = 1
),

currency_since as (
    select
        orders.user_id,
        min(orders.received_at) as currency_received_at
    from orders
    inner join current_currency
        on
            orders.user_id = current_currency.user_id
            and orders.currency = current_currency.currency
    group by orders.user_id
),

signups as (
    select
        user_id,
        min(received_at) as signed_up_received_at
    from web_events
    where event_type = 'signup'
    group by user_id
),

accounts as (
    select user_id from web_events
    union
    select user_id from orders
),

final as (
    select
        accounts.user_id,
        current_email.email_hash,
        signups.signed_up_received_at,
        signups.signed_up_received_at is not null as has_signed_up,
        current_currency.currency as order_currency,
        greatest(
            coalesce(email_since.email_received_at, cast('1970-01-01' as timestamp)),
            coalesce(currency_since.currency_received_at, cast('1970-01-01' as timestamp)),
            coalesce(signups.signed_up_received_at, cast('1970-01-01' as timestamp))
        ) as attributes_received_at
    from accounts
    left join current_email on accounts.user_id = current_email.user_id
    left join email_since on accounts.user_id = email_since.user_id
    left join current_currency on accounts.user_id = current_currency.user_id
    left join currency_since on accounts.user_id = currency_since.user_id
    left join signups on accounts.user_id = signups.user_id
)

select * from final
