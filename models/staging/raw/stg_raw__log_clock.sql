-- Grain: one row: the log's knowledge clock for this build, the latest load time of any line
-- it knows (within var('as_of')). The loader stamps and caps load times, so no
-- producer-written timestamp, however far in the future, moves it.
select max(loaded_at) as log_clock_at
from {{ ref('base_raw__lines') }}
where {{ as_of_condition('loaded_at') }}
