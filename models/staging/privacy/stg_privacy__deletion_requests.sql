{#- Deletion requests are read from every line of the log this build knows, whatever
    var('as_of'): a request applies to every build and every replay, also of a time before it
    was made (the one exception to time travel, by design). Only lines of files landed under
    source=privacy/ conform as privacy events (the partition is the producer's identity: a
    request claiming `privacy` from another partition is quarantined `source_mismatch`), and
    they compete for being the first delivery only among themselves, so no other producer can
    shadow a request by reusing its event_id. -#}
{{ config(materialized='table') }}
-- Grain: one row per deletion request (event_id, first delivery), with the account and the
-- hashed email it names.
with

requests as (
    select * from {{ ref('base_raw__lines') }}
    where
        quarantine_reason is null
        and source_system = 'privacy'
        and event_type = 'deletion_requested'
    qualify row_number() over (
        partition by event_id
        order by loaded_at, load_id, file_path, line_number
    ) = 1
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
)

select * from final
