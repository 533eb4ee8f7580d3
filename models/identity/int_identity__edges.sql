-- Grain: one row per edge of the identity graph: an unordered pair of identifiers
-- (identifier_key_a < identifier_key_b) linked by at least one event, with when the link first
-- became visible in the log (its load time; received_at breaks ties within one load). An edge
-- first seen when either end was already blocked by the shared-device guard (at or after its
-- merge_blocked_from, in that order) is kept here for inspection but flagged
-- is_used_for_merging = false.
with

links as (
    select * from {{ ref('int_identity__links') }}
),

identifiers as (
    select
        identifier_key,
        merge_blocked_from,
        merge_blocked_from_received_at
    from {{ ref('int_identity__identifiers') }}
),

ranked_links as (
    select
        links.*,
        row_number() over (
            partition by links.identifier_key_a, links.identifier_key_b
            order by links.loaded_at, links.received_at, links.linked_at, links.event_id
        ) as link_rank,
        count(*) over (partition by links.identifier_key_a, links.identifier_key_b) as link_count
    from links
),

final as (
    select
        ranked_links.identifier_key_a,
        ranked_links.identifier_type_a,
        ranked_links.identifier_value_a,
        ranked_links.identifier_key_b,
        ranked_links.identifier_type_b,
        ranked_links.identifier_value_b,
        ranked_links.link_source as first_link_source,
        ranked_links.event_id as first_link_event_id,
        ranked_links.linked_at as first_linked_at,
        ranked_links.loaded_at as first_loaded_at,
        ranked_links.received_at as first_received_at,
        ranked_links.link_count,
        -- before the block on the log's clock: an earlier load, or the same load and an earlier
        -- received_at
        (
            identifiers_a.merge_blocked_from is null
            or ranked_links.loaded_at < identifiers_a.merge_blocked_from
            or (
                ranked_links.loaded_at = identifiers_a.merge_blocked_from
                and ranked_links.received_at < identifiers_a.merge_blocked_from_received_at
            )
        )
        and (
            identifiers_b.merge_blocked_from is null
            or ranked_links.loaded_at < identifiers_b.merge_blocked_from
            or (
                ranked_links.loaded_at = identifiers_b.merge_blocked_from
                and ranked_links.received_at < identifiers_b.merge_blocked_from_received_at
            )
        ) as is_used_for_merging
    from ranked_links
    inner join identifiers as identifiers_a on ranked_links.identifier_key_a = identifiers_a.identifier_key
    inner join identifiers as identifiers_b on ranked_links.identifier_key_b = identifiers_b.identifier_key
    where ranked_links.link_rank = 1
)

select * from final
