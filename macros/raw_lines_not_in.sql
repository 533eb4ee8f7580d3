{#- A select of the raw log's lines (load_id, file_path, line_number, line, loaded_at) that are
    not yet in `staged_relation` (matched on file path and line number); every raw line when
    `staged_relation` is none. With `landing_source`, only lines of files landed under
    `source=<landing_source>/` (the producer's identity is its partition). How stg_raw__events
    picks up new lines, how the live view finds the lines loaded since the last build, and how
    the deletion requests are found (privacy files only, whatever as_of). -#}
{% macro raw_lines_not_in(staged_relation=none, landing_source=none) -%}
    select
        raw_lines.load_id,
        raw_lines.file_path,
        raw_lines.line_number,
        raw_lines.line,
        raw_lines.loaded_at
    from {{ source('raw', 'events') }} as raw_lines
    where
        true
        {%- if landing_source is not none %}
        and regexp_matches(raw_lines.file_path, '(^|/)source={{ landing_source }}/')
        {%- endif %}
        {%- if staged_relation is not none %}
        and not exists (
            select 1 from {{ staged_relation }} as staged
            where
                staged.file_path = raw_lines.file_path
                and staged.line_number = raw_lines.line_number
        )
        {%- endif %}
{%- endmacro %}
