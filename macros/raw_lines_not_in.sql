{#- A select of the raw log's lines (load_id, file_path, line_number, line, loaded_at) that are
    not yet in `staged_relation` (matched on file path and line number); every raw line when
    `staged_relation` is none. How stg_raw__events picks up new lines and how the live view
    finds the lines loaded since the last build. -#}
{% macro raw_lines_not_in(staged_relation=none) -%}
    select
        raw_lines.load_id,
        raw_lines.file_path,
        raw_lines.line_number,
        raw_lines.line,
        raw_lines.loaded_at
    from {{ source('raw', 'events') }} as raw_lines
    {%- if staged_relation is not none %}
    where not exists (
        select 1 from {{ staged_relation }} as staged
        where
            staged.file_path = raw_lines.file_path
            and staged.line_number = raw_lines.line_number
    )
    {%- endif %}
{%- endmacro %}
