-- Grain: one row per day (date_day), from 2020-01-01 to 2035-12-31: the calendar, and the time
-- spine the semantic layer (MetricFlow) joins metrics onto, so a day without activity shows 0.
with

days as (
    select {{ day_series("cast('2020-01-01' as date)", "cast('2035-12-31' as date)", 'date_day') }}
),

final as (
    select date_day
    from days
)

select * from final
