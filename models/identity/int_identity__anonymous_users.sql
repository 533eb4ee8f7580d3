-- Grain: one row per anonymous id that was ever linked to an account. The link comes from
-- signup, login and identify events; when several accounts used one device, the first link
-- (by event time, then event id) wins and the number of accounts is kept for later guards.
with

links as (
    select
        anonymous_id,
        user_id,
        event_at,
        event_id
    from {{ ref('stg_web__events') }}
    where
        event_type in ('signup', 'login', 'identify')
        and anonymous_id is not null
        and user_id is not null
),

ranked as (
    select
        links.*,
        row_number() over (
            partition by links.anonymous_id
            order by links.event_at, links.event_id
        ) as link_rank,
        count(distinct links.user_id) over (partition by links.anonymous_id) as linked_user_count
    from links
),

final as (
    select
        anonymous_id,
        user_id,
        event_at as first_linked_at,
        linked_user_count
    from ranked
    where link_rank = 1
)

select * from final
