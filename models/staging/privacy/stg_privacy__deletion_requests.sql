{#- Deletion requests are read from every raw line ever loaded, whatever var('as_of'): a request
    applies to every build and every replay, also of a time before it was made (the one
    exception to time travel, by design). Only files landed under source=privacy/ are read (the
    partition is the producer's identity: a request claiming `privacy` from another partition
    is quarantined `source_mismatch`), parsed as data by the shared parsing macros. -#}
{{ config(materialized='table') }}
-- Grain: one row per deletion request (event_id, first delivery), with the account and the
-- hashed email it names.
with

raw_events as (
    {{ raw_lines_not_in(none, landing_source='privacy') }}
),

{{ raw_line_parsing_ctes('raw_events') }},

requests as (
    select
        parsed_lines.*,
        row_number() over (
            partition by parsed_lines.event_id
            order by parsed_lines.loaded_at, parsed_lines.file_path, parsed_lines.line_number
        ) as delivery_number
    from parsed_lines
    where
        parsed_lines.quarantine_reason is null
        and parsed_lines.source_system = 'privacy'
        and parsed_lines.event_type = 'deletion_requested'
),

final as (
    select
        event_id,
        prop_request_id as request_id,
        user_id,
        email_hash,
        event_at as requested_at,
        received_at,
        loaded_at
    from requests
    where delivery_number = 1
)

select * from final
