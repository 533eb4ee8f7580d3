-- Grain: one row per identifier (identifier_type, identifier_value) seen in the log, with the
-- person it belongs to. First identity rules: an account (user_id) is a person; an anonymous id
-- linked to an account belongs to it; a hashed email belongs to the account that registered it,
-- else it is a guest person of its own; an anonymous id never linked is a person of its own.
with

web_events as (
    select
        anonymous_id,
        user_id,
        email_hash,
        event_type,
        event_at,
        event_id
    from {{ ref('stg_web__events') }}
),

orders as (
    select
        user_id,
        email_hash,
        ordered_at,
        event_id
    from {{ ref('stg_shop__orders') }}
),

anonymous_users as (
    select
        anonymous_id,
        user_id
    from {{ ref('int_identity__anonymous_users') }}
),

account_emails as (
    -- the email an account registered first (signup or identify)
    select
        email_hash,
        user_id
    from web_events
    where email_hash is not null and user_id is not null
    qualify row_number() over (partition by email_hash order by event_at, event_id) = 1
),

anonymous_identifiers as (
    select
        'anonymous_id' as identifier_type,
        web_events.anonymous_id as identifier_value,
        min(web_events.event_at) as first_seen_at,
        max(web_events.event_at) as last_seen_at
    from web_events
    where web_events.anonymous_id is not null
    group by web_events.anonymous_id
),

user_identifiers as (
    select
        'user_id' as identifier_type,
        user_id as identifier_value,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at
    from (
        select
            user_id,
            event_at
        from web_events
        where user_id is not null
        union all
        select
            user_id,
            ordered_at as event_at
        from orders
        where user_id is not null
    ) as user_sightings
    group by user_id
),

email_identifiers as (
    select
        'email_hash' as identifier_type,
        email_hash as identifier_value,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at
    from (
        select
            email_hash,
            event_at
        from web_events
        where email_hash is not null
        union all
        select
            email_hash,
            ordered_at as event_at
        from orders
        where email_hash is not null
    ) as email_sightings
    group by email_hash
),

identifiers as (
    select * from anonymous_identifiers
    union all
    select * from user_identifiers
    union all
    select * from email_identifiers
),

resolved as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        case identifiers.identifier_type
            when 'user_id' then identifiers.identifier_value
            when 'anonymous_id' then anonymous_users.user_id
            when 'email_hash' then account_emails.user_id
        end as resolved_user_id
    from identifiers
    left join anonymous_users
        on
            identifiers.identifier_type = 'anonymous_id'
            and identifiers.identifier_value = anonymous_users.anonymous_id
    left join account_emails
        on
            identifiers.identifier_type = 'email_hash'
            and identifiers.identifier_value = account_emails.email_hash
),

final as (
    select
        identifier_type,
        identifier_value,
        case
            when resolved_user_id is not null
                then {{ hash_key(["'user_id'", 'resolved_user_id']) }}
            else {{ hash_key(['identifier_type', 'identifier_value']) }}
        end as person_key,
        resolved_user_id as user_id,
        first_seen_at,
        last_seen_at
    from resolved
)

select * from final
