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

type_rules as (
    -- each type and version's property rules as one list, so a line checks all of its rules
    -- in one pass (no row per rule to group and join back)
    select
        source,
        event_type,
        schema_version,
        list(struct_pack(
            property, item_path, is_required, json_type, min_value, max_value, max_decimals,
            pattern, field_position
        )) as property_rules
    from rules
    group by source, event_type, schema_version
),

{#- a rule's failure on a line (null when it holds): on the value at the rule's field, or, for a
    rule with an item_path, the first failure among the elements of the array property -#}
{%- set value_type = list_element('field_types', 'rule.field_position + 1') %}
{%- set value_text = list_element('field_texts', 'rule.field_position') %}
{%- set rule_failure %}
    case
        when rule.item_path is null
            then {{ property_rule_failure(value_type, value_text, 'rule') }}
        when {{ value_type }} = 'ARRAY'
            then {{ list_least(list_map(json_array_items(value_text), 'item', property_rule_failure(
                json_extract_types('item', 'rule.item_path'),
                json_extract_texts('item', 'rule.item_path'),
                'rule'
            ))) }}
    end
{%- endset %}
{%- set rule_check %}
    struct_pack(
        property := case
            when rule.item_path is null then rule.property
            else rule.property || '[]' || rule.item_path
        end,
        failure := {{ rule_failure }}
    )
{%- endset %}

property_checks as (
    -- every rule of a conforming envelope's type and version, checked on the value it names;
    -- the failed ones kept, each with the property's name and its failure
    select
        envelope_checked.*,
        {{ list_keep(
            list_map(
                'case when envelope_checked.envelope_failure is null'
                ~ ' then type_rules.property_rules end',
                'rule',
                rule_check
            ),
            'checked',
            'checked.failure is not null'
        ) }} as failed_properties
    from envelope_checked
    left join type_rules
        on
            envelope_checked.source_system = type_rules.source
            and envelope_checked.event_type = type_rules.event_type
            and envelope_checked.schema_version = type_rules.schema_version
),

classified as (
    -- a line's failure: the envelope's, else the first property failure in name order (and
    -- the first failed property in name order)
    select
        property_checks.*,
        coalesce(
            property_checks.envelope_failure,
            {{ list_least(list_map('property_checks.failed_properties', 'checked', 'checked.failure')) }}
        ) as quarantine_reason,
        case
            when property_checks.envelope_failure in ('clock_ahead', 'value_out_of_range')
                then property_checks.envelope_failure_field
            when property_checks.envelope_failure = 'source_mismatch'
                then 'source=' || coalesce(property_checks.landing_source, '(none)')
            when property_checks.envelope_failure is null
                then {{ list_least(list_map('property_checks.failed_properties', 'checked', 'checked.property')) }}
        end as quarantine_detail
    from property_checks
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
