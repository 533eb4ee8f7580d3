-- Raw lines that do not conform to the event standard, one row per line, with the reason.
select
    raw_line_key,
    load_id,
    file_path,
    line_number,
    loaded_at,
    log_clock_at,
    quarantine_reason,
    quarantine_detail,
    event_id,
    event_type,
    schema_version,
    source_system
from {{ ref('base_raw__lines') }}
where line_status = 'quarantined' and {{ as_of_condition('loaded_at') }}
