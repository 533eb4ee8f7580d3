-- Grain: one row per account (user_id): its current attributes by the log's clock, and when
-- the log received the latest change of any of them. The source of the customer attribute
-- snapshot; accounts of persons who asked to be forgotten are left out. Each attribute's
-- current value is its latest sighting (by received_at, then event id); it "changed" when the
-- log first received that value after the last sighting of another.
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

sightings as (
    -- (account, attribute, value) each time an event shows it
    select
        user_id,
        'email_hash' as attribute_name,
        email_hash as attribute_value,
        received_at,
        event_id
    from web_events
    where email_hash is not null
    union all
    select
        user_id,
        'email_hash' as attribute_name,
        email_hash as attribute_value,
        received_at,
        event_id
    from orders
    where email_hash is not null
    union all
    select
        user_id,
        'order_currency' as attribute_name,
        currency as attribute_value,
        received_at,
        event_id
    from orders
    union all
    select
        user_id,
        'signed_up' as attribute_name,
        'true' as attribute_value,
        received_at,
        event_id
    from web_events
    where event_type = 'signup'
),

current_values as (
    select
        user_id,
        attribute_name,
        attribute_value
    from sightings
    qualify row_number() over (
        partition by user_id, attribute_name order by received_at desc, event_id desc
    ) = 1
),

last_other_value as (
    -- the latest sighting of any other value: the current value's run starts after it
    select
        current_values.user_id,
        current_values.attribute_name,
        max(sightings.received_at) as other_received_at
    from current_values
    inner join sightings
        on
            current_values.user_id = sightings.user_id
            and current_values.attribute_name = sightings.attribute_name
            and current_values.attribute_value != sightings.attribute_value
    group by current_values.user_id, current_values.attribute_name
),

current_since as (
    -- when the log received the current value, counting from the start of its current run
    -- (a value that comes back after another one changes again)
    select
        current_values.user_id,
        current_values.attribute_name,
        current_values.attribute_value,
        min(sightings.received_at) as value_received_at
    from current_values
    inner join sightings
        on
            current_values.user_id = sightings.user_id
            and current_values.attribute_name = sightings.attribute_name
            and current_values.attribute_value = sightings.attribute_value
    left join last_other_value
        on
            current_values.user_id = last_other_value.user_id
            and current_values.attribute_name = last_other_value.attribute_name
    where
        last_other_value.other_received_at is null
        or sightings.received_at > last_other_value.other_received_at
    group by current_values.user_id, current_values.attribute_name, current_values.attribute_value
),

accounts as (
    select user_id from web_events
    union
    select user_id from orders
),

final as (
    select
        accounts.user_id,
        max(case when current_since.attribute_name = 'email_hash' then current_since.attribute_value end)
            as email_hash,
        max(case when current_since.attribute_name = 'signed_up' then current_since.value_received_at end)
            as signed_up_received_at,
        count(case when current_since.attribute_name = 'signed_up' then 1 end) > 0 as has_signed_up,
        max(case when current_since.attribute_name = 'order_currency' then current_since.attribute_value end)
            as order_currency,
        coalesce(
            max(current_since.value_received_at), cast('1970-01-01' as timestamp)
        ) as attributes_received_at
    from accounts
    left join current_since on accounts.user_id = current_since.user_id
    where not {{ is_erased('accounts.user_id', "'user_id'") }}
    group by accounts.user_id
)

select * from final
