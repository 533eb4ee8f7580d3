-- The floor of `shoplog bench`: the least work that turns the landing files into sessions and
-- 5-minute page hits, in one plain DuckDB script (database in a file), to compare the project
-- with. `shoplog bench` substitutes {landing_glob} (the landing files) and {catalogue_csv}
-- (seeds/event_catalogue.csv), runs each `-- step:` block in turn and times it.
-- What the floor keeps of the project's rules: a line is an event when it is valid JSON with
-- the envelope's fields, its source is the one of its `source=` folder and its type and version
-- are in the catalogue; the first line of an event id (by file, then line) is the event; a gap
-- of more than 30 minutes between two events of an anonymous id starts a session.

-- step: read
-- every line verbatim (a delimiter and no quote character that never occur: one column), with
-- its file; the insertion order is the files' order and each file's line order, so a line's
-- number is its row id less its file's first row id, plus one (kept per file in raw_files)
create table raw_lines as
select
    filename as file_path,
    line
from read_csv(
    '{landing_glob}',
    columns = {'line': 'VARCHAR'},
    delim = chr(1),
    quote = '',
    escape = '',
    header = false,
    auto_detect = false,
    filename = true,
    strict_mode = false,
    new_line = '\n',
    max_line_size = 100000000
);
create table raw_files as
select
    file_path,
    min(rowid) as first_rowid,
    count(*) as line_count
from raw_lines
group by file_path;

-- step: parse
-- the envelope and page fields, parsed once (one extraction of a list of paths per line)
create table parsed as
with
catalogue as (
    select source, event_type, schema_version
    from read_csv('{catalogue_csv}', header = true)
),
fields as (
    select
        raw_lines.file_path,
        raw_lines.rowid - raw_files.first_rowid + 1 as line_number,
        regexp_extract(raw_lines.file_path, '/source=([^/]+)/', 1) as landing_source,
        json_extract_string(raw_lines.line, [
            '$.event_id', '$.event_type', '$.schema_version', '$.source', '$.event_time',
            '$.received_at', '$.anonymous_id', '$.context.host', '$.context.page_url',
            '$.context.path'
        ]) as f
    from raw_lines
    inner join raw_files on raw_lines.file_path = raw_files.file_path
    where json_valid(raw_lines.line)
)
select
    fields.file_path,
    fields.line_number,
    fields.f[1] as event_id,
    fields.f[2] as event_type,
    fields.f[4] as source,
    try_cast(fields.f[5] as timestamptz) as event_at,
    try_cast(fields.f[6] as timestamptz) as received_at,
    fields.f[7] as anonymous_id,
    fields.f[8] as host,
    fields.f[9] as page_url,
    fields.f[10] as page_path
from fields
inner join catalogue
    on
        fields.f[4] = catalogue.source
        and fields.f[2] = catalogue.event_type
        and try_cast(fields.f[3] as integer) = catalogue.schema_version
where
    fields.f[1] is not null
    and fields.f[4] = fields.landing_source
    and try_cast(fields.f[5] as timestamptz) is not null
    and try_cast(fields.f[6] as timestamptz) is not null;

-- step: dedup
-- the first delivery of each event id
create table events as
select *
from parsed
qualify row_number() over (partition by event_id order by file_path, line_number) = 1;

-- step: sessions
create table sessions as
with
gaps as (
    select
        anonymous_id,
        event_id,
        event_at,
        event_at - lag(event_at) over (
            partition by anonymous_id order by event_at, event_id
        ) > interval 30 minute is not false as is_session_start
    from events
    where source = 'web' and anonymous_id is not null
),
numbered as (
    select
        anonymous_id,
        event_at,
        sum(cast(is_session_start as integer)) over (
            partition by anonymous_id order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps
)
select
    anonymous_id,
    session_number,
    min(event_at) as started_at,
    max(event_at) as ended_at,
    count(*) as event_count
from numbered
group by anonymous_id, session_number;

-- step: page hits
create table page_hits as
select
    time_bucket(interval 5 minute, event_at) as window_start,
    host,
    page_url,
    count(*) as hits,
    count(distinct anonymous_id) as visitors
from events
where source = 'web' and event_type in ('page_view', 'product_view')
group by all;
