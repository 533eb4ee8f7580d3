-- Every identifier's person key periods start when the identifier first appeared and end in the
-- key the person map gives it today (they follow each other by construction: valid_to is the
-- next valid_from). Returns the identifiers that break this, with the problem. Meaningful only
-- when the bounded propagation converged; when it did not, the convergence tests warn and the
-- two are known to disagree, so this check stands aside.
with

unconverged as (
    select identifier_key from {{ ref('int_identity__components') }}
    where not is_converged
    union all
    select identifier_key from {{ ref('int_identity__root_reach') }}
    where not is_converged
),

periods as (
    select
        identifier_type,
        identifier_value,
        person_key,
        valid_from,
        valid_to,
        is_current
    from {{ ref('int_identity__person_key_periods') }}
),

person_map as (
    select
        identifier_type,
        identifier_value,
        person_key,
        first_loaded_at
    from {{ ref('int_identity__person_map') }}
),

chained as (
    select
        periods.*,
        row_number() over (
            partition by periods.identifier_type, periods.identifier_value
            order by periods.valid_from
        ) as period_rank
    from periods
),

late_starts as (
    select
        person_map.identifier_type,
        person_map.identifier_value,
        'first period does not start when the identifier appeared' as problem
    from person_map
    inner join chained
        on
            person_map.identifier_type = chained.identifier_type
            and person_map.identifier_value = chained.identifier_value
            and chained.period_rank = 1
    where chained.valid_from != person_map.first_loaded_at
),

current_mismatches as (
    select
        person_map.identifier_type,
        person_map.identifier_value,
        'current period key differs from the person map, or is missing' as problem
    from person_map
    left join periods
        on
            person_map.identifier_type = periods.identifier_type
            and person_map.identifier_value = periods.identifier_value
            and periods.is_current
    where periods.person_key is null or periods.person_key != person_map.person_key
),

problems as (
    select * from late_starts
    union all
    select * from current_mismatches
)

select * from problems
where not exists (select 1 from unconverged)
