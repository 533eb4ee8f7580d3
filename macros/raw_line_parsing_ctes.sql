{#- The parsing of raw log lines, shared by stg_raw__events (the incremental table) and
    stg_raw__events_recent (the live view of lines loaded since): each line's bytes are decoded
    (UTF-8 or quarantined), its JSON parsed once, typed with casts that never raise, checked
    against the event standard (catalogue seed, then the per-type property rules seed) and given
    a quarantine reason (null when it conforms) and detail, a content hash, keyed pseudonyms of
    email and IP (and of an identifier that holds an email or IP), and free text (URLs, paths,
    referrer, campaign, title, user agent, reasons) scrubbed of personal data. The checks, in the order docs/event-standard.md lists them, are the only place
    the standard's rules are written: nothing downstream can fail on a line that passed them.

    raw_line_parsing_ctes(raw_cte) emits CTE definitions (ending with `parsed_lines`) that read
    the CTE named `raw_cte` (columns load_id, file_path, line_number, line, loaded_at);
    raw_line_parsed_columns() lists parsed_lines' columns in order. -#}
{% macro raw_line_parsing_ctes(raw_cte) -%}
{%- set fields = raw_line_fields() -%}
{%- set field_names = fields | map(attribute=0) | list -%}
{%- set identifiers = ['anonymous_id', 'user_id', 'email', 'payment_customer_id', 'order_id'] -%}
catalogue as (
    select
        source as catalogue_source,
        event_type as catalogue_event_type,
        schema_version as catalogue_schema_version
    from {{ ref('event_catalogue') }}
),

rules as (
    select
        event_property_rules.*,
        array_position(
            [{%- for name in field_names %}'{{ name }}'{{ ", " if not loop.last }}{%- endfor %}],
            event_property_rules.property
        ) as field_position
    from {{ ref('event_property_rules') }} as event_property_rules
),

decoded as (
    select
        raw_events.load_id,
        raw_events.file_path,
        raw_events.line_number,
        raw_events.loaded_at,
        {{ decode_utf8('raw_events.line') }} as line_text,
        nullif(regexp_extract(raw_events.file_path, '(^|/)source=([^/]+)/', 2), '') as landing_source
    from {{ raw_cte }} as raw_events
),

json_checked as (
    select
        decoded.*,
        decoded.line_text is not null and {{ json_is_valid('decoded.line_text') }} as is_valid_json
    from decoded
),

extracted as (
    select
        json_checked.*,
        case
            when json_checked.is_valid_json
                then {{ json_extract_texts('json_checked.line_text', fields | map(attribute=1) | list) }}
        end as field_texts,
        case
            when json_checked.is_valid_json
                then {{ json_extract_types('json_checked.line_text', ['$'] + (fields | map(attribute=1) | list)) }}
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
        {{ list_element('field_types', 1) }} as json_type_document,
        {%- for name, path in fields %}
        {{ list_element('field_texts', loop.index) }} as {{ name }},
        {{ list_element('field_types', loop.index + 1) }} as json_type_{{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from extracted
),

typed as (
    select
        fields.*,
        {{ safe_cast('schema_version_text', 'integer') }} as schema_version,
        {{ parse_utc_timestamp('event_time_text') }} as event_at,
        {{ parse_utc_timestamp('received_at_text') }} as received_at
    from fields
),

envelope_checked as (
    select
        typed.*,
        case
            when typed.is_invalid_utf8 then 'invalid_utf8'
            when not typed.is_valid_json then 'invalid_json'
            when typed.json_type_document != 'OBJECT' then 'missing_envelope_field'
            when
                typed.event_id is null
                or typed.event_type is null
                or typed.schema_version_text is null
                or typed.source_system is null
                or typed.event_time_text is null
                or typed.received_at_text is null
                or coalesce(typed.json_type_properties_json, 'NULL') = 'NULL'
                then 'missing_envelope_field'
            when
                typed.json_type_event_id != 'VARCHAR'
                or typed.json_type_event_type != 'VARCHAR'
                or typed.json_type_schema_version_text not in ('BIGINT', 'UBIGINT')
                or typed.schema_version is null
                or typed.json_type_source_system != 'VARCHAR'
                or typed.json_type_event_time_text != 'VARCHAR'
                or typed.json_type_received_at_text != 'VARCHAR'
                or typed.json_type_properties_json != 'OBJECT'
                or coalesce(typed.json_type_context_json, 'OBJECT') not in ('OBJECT', 'NULL')
                {%- for name in identifiers %}
                or coalesce(typed.json_type_{{ name }}, 'VARCHAR') not in ('VARCHAR', 'NULL')
                {%- endfor %}
                or typed.event_id = ''
                or typed.event_at is null
                or typed.received_at is null
                then 'wrong_type'
            when typed.landing_source is null or typed.source_system != typed.landing_source
                then 'source_mismatch'
            when not exists (
                select 1 from catalogue
                where
                    catalogue.catalogue_source = typed.source_system
                    and catalogue.catalogue_event_type = typed.event_type
            ) then 'unknown_event_type'
            when not exists (
                select 1 from catalogue
                where
                    catalogue.catalogue_source = typed.source_system
                    and catalogue.catalogue_event_type = typed.event_type
                    and catalogue.catalogue_schema_version = typed.schema_version
            ) then 'unknown_schema_version'
            when
                typed.received_at > typed.loaded_at
                + interval '{{ var("clock_ahead_tolerance_minutes") }} minutes'
                then 'clock_ahead'
            when
                typed.received_at < cast('1970-01-01' as timestamp)
                or typed.event_at < cast('1970-01-01' as timestamp)
                or typed.event_at > typed.loaded_at
                + interval '{{ var("event_time_ahead_tolerance_hours") }} hours'
                then 'value_out_of_range'
        end as envelope_failure,
        case
            when typed.received_at > typed.loaded_at
                + interval '{{ var("clock_ahead_tolerance_minutes") }} minutes'
                then 'received_at'
            when typed.received_at < cast('1970-01-01' as timestamp) then 'received_at'
            when typed.event_at is not null then 'event_time'
        end as envelope_failure_field
    from typed
),

property_values as (
    -- Every property rule of the line's type and version, with the value it checks: a field
    -- of the parse, or each element of an array field (rules with an item_path).
    select
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
    select
        property_values.file_path,
        property_values.line_number,
        property_values.property || '[]' || property_values.item_path as property,
        property_values.item_path,
        property_values.is_required,
        property_values.json_type,
        property_values.min_value,
        property_values.max_value,
        property_values.max_decimals,
        property_values.pattern,
        {{ unnest_json_array('property_values.value_text', 'item_json', 'item_number') }}
    from property_values
    where property_values.item_path is not null and property_values.value_type = 'ARRAY'
),

property_failures as (
    select
        checked.file_path,
        checked.line_number,
        min(checked.failure) as property_failure,
        min(checked.property) filter (where checked.failure is not null) as property_failure_field
    from (
        select
            property_values.file_path,
            property_values.line_number,
            property_values.property,
            {{ property_rule_failure('property_values.value_type', 'property_values.value_text', 'property_values') }} as failure
        from property_values
        where property_values.item_path is null
        union all
        select
            property_items.file_path,
            property_items.line_number,
            property_items.property,
            {{ property_rule_failure(
                json_extract_types('property_items.item_json', 'property_items.item_path'),
                json_extract_texts('property_items.item_json', 'property_items.item_path'),
                'property_items') }} as failure
        from property_items
    ) as checked
    group by checked.file_path, checked.line_number
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
            envelope_checked.file_path = property_failures.file_path
            and envelope_checked.line_number = property_failures.line_number
),

parsed_lines as (
    select
        {{ hash_key(['file_path', 'line_number']) }} as raw_line_key,
        load_id,
        file_path,
        line_number,
        loaded_at,
        loaded_at as log_clock_at,
        quarantine_reason,
        quarantine_detail,
        case when quarantine_reason is null then {{ hash_key(
            ['event_id', 'event_type', 'schema_version_text', 'source_system', 'event_time_text']
            + identifiers + ['context_json', 'properties_json']) }}
        end as content_hash,
        event_id,
        event_type,
        schema_version,
        source_system,
        event_at,
        received_at,
        {%- for name in ['anonymous_id', 'user_id'] %}
        {{ pseudonymize_if_personal(name) }} as {{ name }},
        {%- endfor %}
        {{ pseudonymize(normalize_email('email')) }} as email_hash,
        {%- for name in ['payment_customer_id', 'order_id'] %}
        {{ pseudonymize_if_personal(name) }} as {{ name }},
        {%- endfor %}
        {%- for name in ['page_url', 'page_path', 'referrer'] %}
        {{ scrub_personal_data(name) }} as {{ name }},
        {%- endfor %}
        host,
        {{ scrub_personal_data('user_agent') }} as user_agent,
        {{ pseudonymize('ip') }} as ip_hash,
        {{ scrub_personal_data('campaign') }} as campaign,
        {%- for name, path in fields if name.startswith('prop_') %}
        {%- if name in ['prop_title', 'prop_reason', 'prop_failure_reason'] %}
        {{ scrub_personal_data(name) }} as {{ name }}{{ "," if not loop.last }}
        {%- else %}
        {{ name }}{{ "," if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from classified
)
{%- endmacro %}
