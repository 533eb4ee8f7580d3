-- Grain: one row per account (user_id): its current attributes by the log's clock, and when
-- the log loaded the latest change of any of them. The source of the customer attribute
-- snapshot; accounts of persons who asked to be forgotten are left out. Each attribute's
-- current value is its latest sighting in log order (by loaded_at, then received_at, then event
-- id); it "changed" at the load time of the value's first sighting after the last sighting of
-- another.
with

web_events as (
    select
        user_id,
        email_hash,
        event_type,
        loaded_at,
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
        loaded_at,
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
        loaded_at,
        received_at,
        event_id
    from web_events
    where email_hash is not null
    union all
    select
        user_id,
        'email_hash' as attribute_name,
        email_hash as attribute_value,
        loaded_at,
        received_at,
        event_id
    from orders
    where email_hash is not null
    union all
    select
        user_id,
        'order_currency' as attribute_name,
        currency as attribute_value,
        loaded_at,
        received_at,
        event_id
    from orders
    union all
    select
        user_id,
        'signed_up' as attribute_name,
        'true' as attribute_value,
        loaded_at,
        received_at,
        event_id
    from web_events
    where event_type = 'signup'
),

ordered_sightings as (
    -- each sighting's position in the log (load time, then received_at within the load, then
    -- event id)
    select
        sightings.*,
        row_number() over (
            partition by sightings.user_id, sightings.attribute_name
            order by sightings.loaded_at desc, sightings.received_at desc, sightings.event_id desc
        ) as recency_rank
    from sightings
),

current_values as (
    select
        user_id,
        attribute_name,
        attribute_value
    from ordered_sightings
    where recency_rank = 1
),

last_other_value as (
    -- the latest sighting of any other value: the current value's run starts after it
    select
        current_values.user_id,
        current_values.attribute_name,
        min(ordered_sightings.recency_rank) as other_recency_rank
    from current_values
    inner join ordered_sightings
        on
            current_values.user_id = ordered_sightings.user_id
            and current_values.attribute_name = ordered_sightings.attribute_name
            and current_values.attribute_value != ordered_sightings.attribute_value
    group by current_values.user_id, current_values.attribute_name
),

current_since as (
    -- when the log loaded the current value, counting from the start of its current run
    -- (a value that comes back after another one changes again)
    select
        current_values.user_id,
        current_values.attribute_name,
        current_values.attribute_value,
        min(ordered_sightings.loaded_at) as value_loaded_at
    from current_values
    inner join ordered_sightings
        on
            current_values.user_id = ordered_sightings.user_id
            and current_values.attribute_name = ordered_sightings.attribute_name
            and current_values.attribute_value = ordered_sightings.attribute_value
    left join last_other_value
        on
            current_values.user_id = last_other_value.user_id
            and current_values.attribute_name = last_other_value.attribute_name
    where
        last_other_value.other_recency_rank is null
        or ordered_sightings.recency_rank < last_other_value.other_recency_rank
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
        max(case when current_since.attribute_name = 'signed_up' then current_since.value_loaded_at end)
            as signed_up_loaded_at,
        count(case when current_since.attribute_name = 'signed_up' then 1 end) > 0 as has_signed_up,
        max(case when current_since.attribute_name = 'order_currency' then current_since.attribute_value end)
            as order_currency,
        coalesce(
            max(current_since.value_loaded_at), cast('1970-01-01' as timestamp)
        ) as attributes_loaded_at
    from accounts
    left join current_since on accounts.user_id = current_since.user_id
    where not {{ is_erased('accounts.user_id', "'user_id'") }}
    group by accounts.user_id
)

select * from final
