-- Grain: one row per person key that was issued and later merged away: when the log first
-- connected its root identifier to an earlier person, the older person's key survived. Maps the
-- old key to the person's current key (chains of merges collapsed) with merged_at = the log
-- time (loaded_at) at which the merge became visible. Consumers holding old keys remap them
-- with this table.
with

key_history as (
    select * from {{ ref('int_identity__person_key_history') }}
),

final as (
    select
        person_key as old_person_key,
        current_person_key as new_person_key,
        root_identifier_type as old_root_identifier_type,
        root_identifier_value as old_root_identifier_value,
        issued_at as old_key_issued_at,
        superseded_at as merged_at
    from key_history
    where was_issued and not is_current
)

select * from final
