-- Grain: one row per web session: where its traffic came from and whether a bot made it. The
-- channel is that of the first rule of the seed traffic_channel_rules (by rule_order) whose
-- pattern matches the session's campaign or referrer host; with no match, a session without a
-- referrer, or referred from the shop's own site, is direct, and any other is referral. A
-- session is a bot's when its landing user agent matches a pattern of the seed
-- bot_user_agent_patterns.
with

sessions as (
    select
        session_id,
        campaign,
        host,
        user_agent,
        lower(regexp_extract(referrer, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#@]+)', 1)) as referrer_host
    from {{ ref('int_sessions__aggregated') }}
),

channel_rules as (
    select * from {{ ref('traffic_channel_rules') }}
),

bot_patterns as (
    select * from {{ ref('bot_user_agent_patterns') }}
),

rule_matches as (
    -- the first matching rule of each session that any rule matches
    select
        sessions.session_id,
        channel_rules.channel,
        channel_rules.rule_order
    from sessions
    inner join channel_rules
        on
            (
                channel_rules.field = 'campaign'
                and {{ regex_matches_ignoring_case('sessions.campaign', 'channel_rules.pattern') }}
            )
            or (
                channel_rules.field = 'referrer_host'
                and {{ regex_matches_ignoring_case('sessions.referrer_host', 'channel_rules.pattern') }}
            )
    qualify row_number() over (partition by sessions.session_id order by channel_rules.rule_order) = 1
),

bots as (
    select distinct sessions.session_id
    from sessions
    inner join bot_patterns
        on {{ regex_matches_ignoring_case('sessions.user_agent', 'bot_patterns.pattern') }}
),

final as (
    select
        sessions.session_id,
        nullif(sessions.referrer_host, '') as referrer_host,
        rule_matches.rule_order as channel_rule_order,
        coalesce(
            rule_matches.channel,
            case
                when nullif(sessions.referrer_host, '') is null then 'direct'
                -- the shop's own pages (www. and m. hosts are the same site)
                when
                    regexp_replace(sessions.referrer_host, '^(www|m)[.]', '')
                    = regexp_replace(lower(sessions.host), '^(www|m)[.]', '')
                    then 'direct'
                else 'referral'
            end
        ) as channel,
        bots.session_id is not null as is_bot
    from sessions
    left join rule_matches on sessions.session_id = rule_matches.session_id
    left join bots on sessions.session_id = bots.session_id
)

select * from final
