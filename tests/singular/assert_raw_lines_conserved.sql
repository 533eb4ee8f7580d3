-- Conservation (DESIGN invariant 2): every loaded line is in raw exactly once, and every raw
-- line is in exactly one of staged / quarantined / duplicate. Returns one row per file where
-- the manifest, the raw log and the classification disagree. It reconciles the loads the build
-- knows (up to the highest load in base_raw__lines): a load landing during the build waits for
-- the next one. base_raw__lines holds the whole known log under any `as_of` too.
with

build_bound as (
    select coalesce(max(load_id), 0) as load_id
    from {{ ref('base_raw__lines') }}
),

manifest as (
    select
        file_path,
        line_count
    from {{ source('raw', 'load_manifest') }}
    where load_id <= (select build_bound.load_id from build_bound)
),

raw_lines as (
    select
        file_path,
        count(*) as raw_line_count,
        count(distinct line_number) as distinct_line_count
    from {{ source('raw', 'events') }}
    where load_id <= (select build_bound.load_id from build_bound)
    group by file_path
),

classified as (
    select
        file_path,
        count(*) as classified_count,
        count_if(line_status = 'staged') as staged_count,
        count_if(line_status = 'quarantined') as quarantined_count,
        count_if(line_status = 'duplicate') as duplicate_count
    from {{ ref('base_raw__lines') }}
    group by file_path
),

reconciled as (
    select
        coalesce(manifest.file_path, raw_lines.file_path, classified.file_path) as file_path,
        manifest.file_path is not null as is_in_manifest,
        coalesce(manifest.line_count, 0) as manifest_line_count,
        coalesce(raw_lines.raw_line_count, 0) as raw_line_count,
        coalesce(raw_lines.distinct_line_count, 0) as distinct_line_count,
        coalesce(classified.classified_count, 0) as classified_count,
        coalesce(classified.staged_count, 0)
        + coalesce(classified.quarantined_count, 0)
        + coalesce(classified.duplicate_count, 0) as bucketed_count
    from manifest
    full outer join raw_lines on manifest.file_path = raw_lines.file_path
    full outer join classified
        on coalesce(manifest.file_path, raw_lines.file_path) = classified.file_path
)

select * from reconciled
where
    not is_in_manifest
    or manifest_line_count != raw_line_count
    or raw_line_count != distinct_line_count
    or raw_line_count != classified_count
    or classified_count != bucketed_count
