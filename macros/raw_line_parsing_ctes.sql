{#- The parsing of raw log lines, shared by stg_raw__events (the incremental table) and
    stg_raw__events_recent (the live view of lines loaded since): each line's JSON is parsed
    once, typed, checked against the event standard (catalogue seed) and given a quarantine
    reason (null when it conforms), the log's clock, and pseudonymised email and IP.

    raw_line_parsing_ctes(raw_cte) emits CTE definitions (ending with `parsed_lines`) that read
    the CTE named `raw_cte` (columns load_id, file_path, line_number, line, loaded_at);
    raw_line_parsed_columns() lists parsed_lines' columns in order. -#}
{% macro raw_line_parsing_ctes(raw_cte) -%}
{%- set fields = raw_line_fields() -%}
{%- set envelope_types = raw_line_envelope_types() -%}
catalogue as (
    select
        source as catalogue_source,
        event_type as catalogue_event_type,
        schema_version as catalogue_schema_version
    from {{ ref('event_catalogue') }}
),

json_checked as (
    select
        raw_events.*,
        {{ json_is_valid('raw_events.line') }} as is_valid_json
    from {{ raw_cte }} as raw_events
),

extracted as (
    select
        json_checked.*,
        case
            when json_checked.is_valid_json
                then {{ json_extract_texts('json_checked.line', fields | map(attribute=1) | list) }}
        end as field_texts,
        case
            when json_checked.is_valid_json
                then {{ json_extract_types('json_checked.line', envelope_types | map(attribute=1) | list) }}
        end as field_types
    from json_checked
),

fields as (
    select
        load_id,
        file_path,
        line_number,
        loaded_at,
        {%- for name, path in fields %}
        {{ list_element('field_texts', loop.index) }} as {{ name }},
        {%- endfor %}
        {%- for name, path in envelope_types %}
        {{ list_element('field_types', loop.index) }} as json_type_{{ name }},
        {%- endfor %}
        is_valid_json
    from extracted
),

typed as (
    select
        fields.*,
        {{ dbt.safe_cast('schema_version_text', 'integer') }} as schema_version,
        {{ parse_utc_timestamp('event_time_text') }} as event_at,
        {{ parse_utc_timestamp('received_at_text') }} as received_at
    from fields
),

classified as (
    select
        typed.*,
        case
            when not typed.is_valid_json then 'invalid_json'
            when typed.json_type_document != 'OBJECT' then 'missing_envelope_field'
            when
                typed.event_id is null
                or typed.event_type is null
                or typed.schema_version_text is null
                or typed.source_system is null
                or typed.event_time_text is null
                or typed.received_at_text is null
                then 'missing_envelope_field'
            when
                typed.json_type_event_id != 'VARCHAR'
                or typed.json_type_event_type != 'VARCHAR'
                or typed.json_type_schema_version not in ('BIGINT', 'UBIGINT')
                or typed.json_type_source != 'VARCHAR'
                or typed.json_type_event_time != 'VARCHAR'
                or typed.json_type_received_at != 'VARCHAR'
                or typed.event_id = ''
                or typed.event_at is null
                or typed.received_at is null
                then 'wrong_type'
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
        end as quarantine_reason
    from typed
),

clocked as (
    -- The log's clock for every line: its received_at; for a line whose received_at cannot be
    -- read, the latest received_at of its landing file (the file was closed after it), and for a
    -- file with no readable line, the time it was loaded.
    select
        classified.*,
        coalesce(
            classified.received_at,
            max(classified.received_at) over (partition by classified.file_path),
            classified.loaded_at
        ) as log_clock_at
    from classified
),

parsed_lines as (
    select
        {{ hash_key(['file_path', 'line_number']) }} as raw_line_key,
        load_id,
        file_path,
        line_number,
        loaded_at,
        log_clock_at,
        quarantine_reason,
        event_id,
        event_type,
        schema_version,
        source_system,
        event_at,
        received_at,
        anonymous_id,
        user_id,
        {{ pseudonymize(normalize_email('email')) }} as email_hash,
        payment_customer_id,
        order_id,
        page_url,
        page_path,
        referrer,
        host,
        user_agent,
        {{ pseudonymize('ip') }} as ip_hash,
        campaign,
        {%- for name, path in fields if name.startswith('prop_') %}
        {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from clocked
)
{%- endmacro %}
