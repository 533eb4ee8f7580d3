-- The privacy invariant: no mart, feature row or customer snapshot row refers to a person who
-- asked to be forgotten (int_identity__erased_identifiers), under any key the person ever had.
-- Returns the offending rows, by relation.
with

erased as (
    select
        identifier_type,
        identifier_value,
        person_key
    from {{ ref('int_identity__erased_identifiers') }}
),

erased_keys as (
    -- every key an erased identifier ever had (feature rows are keyed as of their day)
    select distinct periods.person_key
    from {{ ref('int_identity__person_key_periods') }} as periods
    inner join erased
        on
            periods.identifier_type = erased.identifier_type
            and periods.identifier_value = erased.identifier_value
),

erased_accounts as (
    select identifier_value as user_id
    from erased
    where identifier_type = 'user_id'
),

erased_devices as (
    select identifier_value as anonymous_id
    from erased
    where identifier_type = 'anonymous_id'
),

offending as (
    select
        'dim_persons' as relation_name,
        dim_persons.person_key as row_reference
    from {{ ref('dim_persons') }} as dim_persons
    inner join erased_keys on dim_persons.person_key = erased_keys.person_key
    union all
    select
        'dim_customers' as relation_name,
        dim_customers.person_key as row_reference
    from {{ ref('dim_customers') }} as dim_customers
    inner join erased_keys on dim_customers.person_key = erased_keys.person_key
    union all
    select
        'fct_orders' as relation_name,
        fct_orders.order_id as row_reference
    from {{ ref('fct_orders') }} as fct_orders
    inner join erased_keys on fct_orders.person_key = erased_keys.person_key
    union all
    select
        'fct_orders' as relation_name,
        fct_orders.order_id as row_reference
    from {{ ref('fct_orders') }} as fct_orders
    inner join erased_accounts on fct_orders.user_id = erased_accounts.user_id
    union all
    select
        'fct_sessions' as relation_name,
        fct_sessions.session_id as row_reference
    from {{ ref('fct_sessions') }} as fct_sessions
    inner join erased_devices on fct_sessions.anonymous_id = erased_devices.anonymous_id
    union all
    select
        'feat_person_daily' as relation_name,
        feat_person_daily.person_day_key as row_reference
    from {{ ref('feat_person_daily') }} as feat_person_daily
    inner join erased_keys on feat_person_daily.person_key = erased_keys.person_key
    union all
    select
        'snap_customer_attributes' as relation_name,
        snap_customer_attributes.dbt_scd_id as row_reference
    from {{ ref('snap_customer_attributes') }} as snap_customer_attributes
    inner join erased_accounts on snap_customer_attributes.user_id = erased_accounts.user_id
)

select * from offending
