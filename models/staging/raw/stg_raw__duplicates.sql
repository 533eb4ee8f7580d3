-- The duplicate ledger: conforming lines whose event_id had already been delivered.
select
    raw_line_key,
    load_id,
    file_path,
    line_number,
    loaded_at,
    log_clock_at,
    event_id,
    event_type,
    source_system,
    received_at,
    delivery_number
from {{ ref('stg_raw__events') }}
where line_status = 'duplicate'
