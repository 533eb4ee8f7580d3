{#- The one parse of the raw log: a view, so the incremental `base_raw__lines` and the live
    `base_raw__lines_recent` read the same SQL, each with a literal `load_id` range that DuckDB
    pushes down to the scan of the raw log (every CTE below carries `load_id`, and the property
    checks join back on it, so nothing outside the range is parsed). -#}
{{ config(materialized='view') }}
{%- set fields = var('raw_line_fields') %}
-- Grain: one row per raw line: its bytes decoded (or quarantined), its JSON parsed once, typed
-- with casts that never raise, checked against the event standard in the order
-- docs/event-standard.md lists (envelope, catalogue seed, clocks, then the per-type rules of
-- seed event_property_rules) and given a quarantine reason (null when it conforms). Email and
-- IP become keyed pseudonyms here and free text is scrubbed: personal data stops at this view.

with

raw_lines as (
    select
        load_id,
        file_path,
        line_number,
        loaded_at,
        {{ decode_utf8('line') }} as line_text,
        nullif(regexp_extract(file_path, '(^|/)source=([^/]+)/', 2), '') as landing_source
    from {{ source('raw', 'events') }}
),

catalogue as (
    select
        source,
        event_type,
        schema_version
    from {{ ref('event_catalogue') }}
),

rules as (
    -- each rule's field: its 1-based position in var('raw_line_fields')
    select
        event_property_rules.*,
        array_position({{ fields.keys() | list }}, event_property_rules.property) as field_position
    from {{ ref('event_property_rules') }} as event_property_rules
),

json_checked as (
    select
        raw_lines.*,
        raw_lines.line_text is not null and {{ json_is_valid('raw_lines.line_text') }} as is_valid_json
    from raw_lines
),

extracted as (
    -- every field of var('raw_line_fields'), parsed once: its text and its JSON type, in order
    -- (the types have the whole document's first)
    select
        *,
        case
            when is_valid_json
                then {{ json_extract_texts('line_text', fields.values() | list) }}
        end as field_texts,
        case
            when is_valid_json
                then {{ json_extract_types('line_text', ['$'] + fields.values() | list) }}
        end as field_types
    from json_checked
),

fields as (
    select
        load_id,
        file_path,
        line_number,
        loaded_at,
        landing_source,
        line_text is null as is_invalid_utf8,
        is_valid_json,
        field_texts,
        field_types,
        {%- for name in fields %}
        {{ list_element('field_texts', loop.index) }} as {{ name }},
        {{ list_element('field_types', loop.index + 1) }} as json_type_{{ name }},
        {%- endfor %}
        {{ list_element('field_types', 1) }} as json_type_document
    from extracted
),

typed as (
    select
        *,
        {{ safe_cast('schema_version_text', 'integer') }} as schema_version,
        {{ parse_utc_timestamp('event_time_text') }} as event_at,
        {{ parse_utc_timestamp('received_at_text') }} as received_at,
        loaded_at
        + interval '{{ var("clock_ahead_tolerance_minutes") }} minutes' as received_at_limit,
        loaded_at
        + interval '{{ var("event_time_ahead_tolerance_hours") }} hours' as event_at_limit
    from fields
),

envelope_checked as (
    select
        *,
        case
            when is_invalid_utf8 then 'invalid_utf8'
            when not is_valid_json then 'invalid_json'
            when json_type_document != 'OBJECT' then 'missing_envelope_field'
            when
                event_id is null
                or event_type is null
                or schema_version_text is null
                or source_system is null
                or event_time_text is null
                or received_at_text is null
                or coalesce(json_type_properties_json, 'NULL') = 'NULL'
                then 'missing_envelope_field'
            when
                json_type_event_id != 'VARCHAR'
                or json_type_event_type != 'VARCHAR'
                or json_type_schema_version_text not in ('BIGINT', 'UBIGINT')
                or schema_version is null
                or json_type_source_system != 'VARCHAR'
                or json_type_event_time_text != 'VARCHAR'
                or json_type_received_at_text != 'VARCHAR'
                or json_type_properties_json != 'OBJECT'
                or coalesce(json_type_context_json, 'OBJECT') not in ('OBJECT', 'NULL')
                or coalesce(json_type_anonymous_id, 'VARCHAR') not in ('VARCHAR', 'NULL')
                or coalesce(json_type_user_id, 'VARCHAR') not in ('VARCHAR', 'NULL')
                or coalesce(json_type_email, 'VARCHAR') not in ('VARCHAR', 'NULL')
                or coalesce(json_type_payment_customer_id, 'VARCHAR') not in ('VARCHAR', 'NULL')
                or coalesce(json_type_order_id, 'VARCHAR') not in ('VARCHAR', 'NULL')
                or event_id = ''
                or event_at is null
                or received_at is null
                then 'wrong_type'
            when landing_source is null or source_system != landing_source
                then 'source_mismatch'
            when not exists (
                select 1 from catalogue
                where
                    catalogue.source = typed.source_system
                    and catalogue.event_type = typed.event_type
            ) then 'unknown_event_type'
            when not exists (
                select 1 from catalogue
                where
                    catalogue.source = typed.source_system
                    and catalogue.event_type = typed.event_type
                    and catalogue.schema_version = typed.schema_version
            ) then 'unknown_schema_version'
            when received_at > received_at_limit then 'clock_ahead'
            when
                received_at < cast('1970-01-01' as timestamp)
                or event_at < cast('1970-01-01' as timestamp)
                or event_at > event_at_limit
                then 'value_out_of_range'
        end as envelope_failure,
        case
            when received_at > received_at_limit then 'received_at'
            when received_at < cast('1970-01-01' as timestamp) then 'received_at'
            when event_at is not null then 'event_time'
        end as envelope_failure_field
    from typed
),

property_values as (
    -- every property rule of the line's type and version, with the value it checks
    select
        envelope_checked.load_id,
        envelope_checked.file_path,
        envelope_checked.line_number,
        rules.property,
        rules.item_path,
        rules.is_required,
        rules.json_type,
        rules.min_value,
        rules.max_value,
        rules.max_decimals,
        rules.pattern,
        {{ list_element('envelope_checked.field_types', 'rules.field_position + 1') }} as value_type,
        {{ list_element('envelope_checked.field_texts', 'rules.field_position') }} as value_text
    from envelope_checked
    inner join rules
        on
            envelope_checked.source_system = rules.source
            and envelope_checked.event_type = rules.event_type
            and envelope_checked.schema_version = rules.schema_version
    where envelope_checked.envelope_failure is null
),

property_items as (
    -- rules with an item_path check each element of an array property (e.g. order lines)
    select
        load_id,
        file_path,
        line_number,
        property || '[]' || item_path as property,
        item_path,
        is_required,
        json_type,
        min_value,
        max_value,
        max_decimals,
        pattern,
        {{ unnest_json_array('value_text', 'item_json', 'item_number') }}
    from property_values
    where item_path is not null and value_type = 'ARRAY'
),

property_checks as (
    select
        property_values.load_id,
        property_values.file_path,
        property_values.line_number,
        property_values.property,
        {{ property_rule_failure(
            'property_values.value_type', 'property_values.value_text', 'property_values'
        ) }} as failure
    from property_values
    where property_values.item_path is null
    union all
    select
        property_items.load_id,
        property_items.file_path,
        property_items.line_number,
        property_items.property,
        {{ property_rule_failure(
            json_extract_types('item_json', 'item_path'),
            json_extract_texts('item_json', 'item_path'),
            'property_items'
        ) }} as failure
    from property_items
),

property_failures as (
    -- a line's property failure: the first reason in name order, and the first failed property
    select
        load_id,
        file_path,
        line_number,
        min(failure) as property_failure,
        min(property) filter (where failure is not null) as property_failure_field
    from property_checks
    group by load_id, file_path, line_number
),

classified as (
    select
        envelope_checked.*,
        coalesce(envelope_checked.envelope_failure, property_failures.property_failure)
            as quarantine_reason,
        case
            when envelope_checked.envelope_failure in ('clock_ahead', 'value_out_of_range')
                then envelope_checked.envelope_failure_field
            when envelope_checked.envelope_failure = 'source_mismatch'
                then 'source=' || coalesce(envelope_checked.landing_source, '(none)')
            when envelope_checked.envelope_failure is null
                then property_failures.property_failure_field
        end as quarantine_detail
    from envelope_checked
    left join property_failures
        on
            envelope_checked.load_id = property_failures.load_id
            and envelope_checked.file_path = property_failures.file_path
            and envelope_checked.line_number = property_failures.line_number
),

final as (
    select
        {{ hash_key(['file_path', 'line_number']) }} as raw_line_key,
        load_id,
        file_path,
        line_number,
        loaded_at,
        loaded_at as log_clock_at,
        quarantine_reason,
        quarantine_detail,
        case when quarantine_reason is null then {{ hash_key([
            'event_id', 'event_type', 'schema_version_text', 'source_system', 'event_time_text',
            'anonymous_id', 'user_id', 'email', 'payment_customer_id', 'order_id',
            'context_json', 'properties_json']) }}
        end as content_hash,
        event_id,
        event_type,
        schema_version,
        source_system,
        event_at,
        received_at,
        {{ pseudonymize_if_personal('anonymous_id') }} as anonymous_id,
        {{ pseudonymize_if_personal('user_id') }} as user_id,
        {{ pseudonymize(normalize_email('email')) }} as email_hash,
        {{ pseudonymize_if_personal('payment_customer_id') }} as payment_customer_id,
        {{ pseudonymize_if_personal('order_id') }} as order_id,
        {{ scrub_personal_data('page_url') }} as page_url,
        {{ scrub_personal_data('page_path') }} as page_path,
        {{ scrub_personal_data('referrer') }} as referrer,
        host,
        {{ scrub_personal_data('user_agent') }} as user_agent,
        {{ pseudonymize('ip') }} as ip_hash,
        {{ scrub_personal_data('campaign') }} as campaign,
        prop_page_type,
        {{ scrub_personal_data('prop_title') }} as prop_title,
        prop_product_id,
        prop_item_id,
        prop_quantity,
        prop_qty,
        prop_price,
        prop_unit_price,
        prop_currency,
        prop_cart_value,
        prop_item_count,
        prop_total_amount,
        prop_lines,
        prop_status,
        prop_previous_status,
        prop_amount,
        {{ scrub_personal_data('prop_reason') }} as prop_reason,
        prop_payment_id,
        prop_method,
        {{ scrub_personal_data('prop_failure_reason') }} as prop_failure_reason,
        prop_refund_id,
        prop_name,
        prop_category,
        prop_old_price,
        prop_new_price,
        prop_request_id
    from classified
)

select * from final
