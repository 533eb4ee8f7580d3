-- Grain: one row per identifier (identifier_type, identifier_value) seen in the log: anonymous
-- ids, user ids, email hashes and payment customer ids, with when they were first and last
-- seen (event time and log time: loaded_at, with the first load's earliest received_at as a
-- tie-breaker), their order in the log (identifier_rank) and the shared-
-- device guard: an identifier that is not an account but gets linked to more accounts than
-- var('identity_max_accounts_per_identifier'), or a device or payment customer id linked to
-- more emails than that, is blocked from the log time of the link that exceeded it
-- (merge_blocked_from): its edges first seen from then on are not used to merge, so it stays
-- with the person its earlier links gave it. The decision on an edge is known when the edge
-- arrives, so the graph only grows with the log's clock.
with

web_events as (
    select
        anonymous_id,
        user_id,
        email_hash,
        event_at,
        loaded_at,
        received_at
    from {{ ref('stg_web__events') }}
),

orders as (
    select
        user_id,
        email_hash,
        ordered_at,
        loaded_at,
        received_at
    from {{ ref('stg_shop__orders') }}
),

payment_events as (
    select
        payment_customer_id,
        occurred_at,
        loaded_at,
        received_at
    from {{ ref('stg_payments__payment_events') }}
),

links as (
    select * from {{ ref('int_identity__links') }}
),

sightings as (
    select
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value,
        event_at as seen_at,
        loaded_at,
        received_at
    from web_events
    where anonymous_id is not null
    union all
    select
        'user_id' as identifier_type,
        user_id as identifier_value,
        event_at as seen_at,
        loaded_at,
        received_at
    from web_events
    where user_id is not null
    union all
    select
        'email_hash' as identifier_type,
        email_hash as identifier_value,
        event_at as seen_at,
        loaded_at,
        received_at
    from web_events
    where email_hash is not null
    union all
    select
        'user_id' as identifier_type,
        user_id as identifier_value,
        ordered_at as seen_at,
        loaded_at,
        received_at
    from orders
    where user_id is not null
    union all
    select
        'email_hash' as identifier_type,
        email_hash as identifier_value,
        ordered_at as seen_at,
        loaded_at,
        received_at
    from orders
    where email_hash is not null
    union all
    select
        'payment_customer_id' as identifier_type,
        payment_customer_id as identifier_value,
        occurred_at as seen_at,
        loaded_at,
        received_at
    from payment_events
    where payment_customer_id is not null
),

sighting_loads as (
    select
        sightings.*,
        min(sightings.loaded_at) over (
            partition by sightings.identifier_type, sightings.identifier_value
        ) as first_loaded_at
    from sightings
),

identifiers as (
    -- first_received_at is the earliest received_at within the first load, so a later load
    -- (however early its received_at) never changes an identifier's place in the log
    select
        identifier_type,
        identifier_value,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        min(first_loaded_at) as first_loaded_at,
        max(loaded_at) as last_loaded_at,
        min(case when loaded_at = first_loaded_at then received_at end) as first_received_at,
        max(received_at) as last_received_at
    from sighting_loads
    group by identifier_type, identifier_value
),

link_ends as (
    -- every link seen from each of its two ends
    select
        identifier_key_a as identifier_key,
        identifier_type_a as identifier_type,
        identifier_type_b as other_type,
        identifier_value_b as other_value,
        loaded_at,
        received_at
    from links
    union all
    select
        identifier_key_b as identifier_key,
        identifier_type_b as identifier_type,
        identifier_type_a as other_type,
        identifier_value_a as other_value,
        loaded_at,
        received_at
    from links
),

anchor_link_ends as (
    select
        link_ends.identifier_key,
        link_ends.other_type as anchor_type,
        link_ends.other_value as anchor_value,
        link_ends.loaded_at,
        link_ends.received_at,
        min(link_ends.loaded_at) over (
            partition by link_ends.identifier_key, link_ends.other_type, link_ends.other_value
        ) as first_loaded_at
    from link_ends
    where
        (link_ends.other_type = 'user_id' and link_ends.identifier_type != 'user_id')
        or (
            link_ends.other_type = 'email_hash'
            and link_ends.identifier_type in ('anonymous_id', 'payment_customer_id')
        )
),

anchor_first_links as (
    -- each identifier with each account (and, for a device or a payment customer, each email)
    -- it was linked to, when that was first loaded (received_at within that load breaks ties)
    select
        identifier_key,
        anchor_type,
        anchor_value,
        min(first_loaded_at) as first_loaded_at,
        min(case when loaded_at = first_loaded_at then received_at end) as first_received_at
    from anchor_link_ends
    group by identifier_key, anchor_type, anchor_value
),

ranked_anchors as (
    select
        anchor_first_links.*,
        row_number() over (
            partition by anchor_first_links.identifier_key, anchor_first_links.anchor_type
            order by
                anchor_first_links.first_loaded_at,
                anchor_first_links.first_received_at,
                anchor_first_links.anchor_value
        ) as anchor_rank,
        count(*) over (
            partition by anchor_first_links.identifier_key, anchor_first_links.anchor_type
        ) as anchor_count
    from anchor_first_links
),

first_accounts as (
    select
        identifier_key,
        min(
            case when anchor_type = 'user_id' and anchor_rank = 1 then anchor_value end
        ) as first_account_user_id,
        max(case when anchor_type = 'user_id' then anchor_count else 0 end) as linked_account_count,
        max(case when anchor_type = 'email_hash' then anchor_count else 0 end) as linked_email_count
    from ranked_anchors
    group by identifier_key
),

exceeding_anchors as (
    -- the link that exceeded the limit, per anchor type; the earlier of them (by load, then
    -- received_at within it) starts the block
    select
        identifier_key,
        first_loaded_at,
        first_received_at,
        min(first_loaded_at) over (partition by identifier_key) as block_loaded_at
    from ranked_anchors
    where anchor_rank = {{ var('identity_max_accounts_per_identifier') }} + 1
),

blocks as (
    select
        identifier_key,
        min(block_loaded_at) as merge_blocked_from,
        min(case when first_loaded_at = block_loaded_at then first_received_at end)
            as merge_blocked_from_received_at
    from exceeding_anchors
    group by identifier_key
),

final as (
    select
        concat(identifiers.identifier_type, ':', identifiers.identifier_value) as identifier_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        row_number() over (
            order by
                identifiers.first_loaded_at,
                identifiers.first_received_at,
                identifiers.identifier_type,
                identifiers.identifier_value
        ) as identifier_rank,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.first_loaded_at,
        identifiers.last_loaded_at,
        identifiers.first_received_at,
        identifiers.last_received_at,
        first_accounts.first_account_user_id,
        coalesce(first_accounts.linked_account_count, 0) as linked_account_count,
        coalesce(first_accounts.linked_email_count, 0) as linked_email_count,
        blocks.merge_blocked_from,
        blocks.merge_blocked_from_received_at,
        blocks.merge_blocked_from is not null as is_merge_blocked
    from identifiers
    left join first_accounts
        on concat(identifiers.identifier_type, ':', identifiers.identifier_value) = first_accounts.identifier_key
    left join blocks
        on concat(identifiers.identifier_type, ':', identifiers.identifier_value) = blocks.identifier_key
)

select * from final
