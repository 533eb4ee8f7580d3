-- The duplicate ledger: conforming lines whose event_id had already been delivered (loaded
-- earlier), with their content hash beside the staged copy's: a re-delivery whose content
-- differs (other than received_at) is `conflicting`; the first loaded copy stays the event.
with

lines as (
    select * from {{ ref('base_raw__lines') }}
    where {{ as_of_condition('loaded_at') }}
),

staged as (
    select
        event_id,
        content_hash as staged_content_hash,
        raw_line_key as staged_raw_line_key
    from lines
    where line_status = 'staged'
),

duplicates as (
    select
        lines.raw_line_key,
        lines.load_id,
        lines.file_path,
        lines.line_number,
        lines.loaded_at,
        lines.log_clock_at,
        lines.event_id,
        lines.event_type,
        lines.source_system,
        lines.received_at,
        lines.delivery_number,
        lines.content_hash,
        staged.staged_content_hash,
        staged.staged_raw_line_key,
        lines.content_hash != staged.staged_content_hash as is_conflicting
    from lines
    inner join staged on lines.event_id = staged.event_id
    where lines.line_status = 'duplicate'
)

select * from duplicates
