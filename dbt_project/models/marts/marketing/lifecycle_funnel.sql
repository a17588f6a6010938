-- One row per (month a contact was created, HubSpot lifecycle stage): how many of that month's
-- contacts are at the stage now, how many have reached it (are at it or at a later one: the stages
-- are ordered, and a contact moves forward through them), and the conversion from the previous
-- stage. Contacts at the stage 'other', or with none, are outside the funnel and not counted.

with

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

stages as (

    select * from {{ ref('lifecycle_stages') }}

),

contacts_with_stage as (

    select
        date_trunc('month', contacts.created_at) as cohort_month,
        stages.stage_order
    from contacts
    inner join stages
        on contacts.lifecycle_stage = stages.lifecycle_stage

),

cohort_stages as (

    -- every stage for every month, so a stage nobody reached shows as 0, not as a missing row
    select
        cohorts.cohort_month,
        stages.lifecycle_stage,
        stages.stage_order
    from (select distinct cohort_month from contacts_with_stage) as cohorts
    cross join stages

),

counted as (

    select
        cohort_stages.cohort_month,
        cohort_stages.lifecycle_stage,
        cohort_stages.stage_order,
        count(contacts_with_stage.stage_order) filter (
            where contacts_with_stage.stage_order = cohort_stages.stage_order
        ) as contacts_at_stage,
        count(contacts_with_stage.stage_order) as contacts_reached_stage
    from cohort_stages
    left join contacts_with_stage
        on
            cohort_stages.cohort_month = contacts_with_stage.cohort_month
            and cohort_stages.stage_order <= contacts_with_stage.stage_order
    group by cohort_stages.cohort_month, cohort_stages.lifecycle_stage, cohort_stages.stage_order

),

with_previous as (

    select
        *,
        lag(contacts_reached_stage) over (
            partition by cohort_month order by stage_order asc
        ) as contacts_reached_previous_stage
    from counted

),

final as (

    select
        cast({{ surrogate_key(['cohort_month', 'lifecycle_stage']) }} as varchar)
            as lifecycle_funnel_id,
        cast(cohort_month as date) as cohort_month,
        cast(lifecycle_stage as varchar) as lifecycle_stage,
        cast(stage_order as integer) as stage_order,
        cast(contacts_at_stage as bigint) as contacts_at_stage,
        cast(contacts_reached_stage as bigint) as contacts_reached_stage,
        -- null for the first stage (nothing before it) and when nobody reached the previous one
        cast(
            contacts_reached_stage / nullif(contacts_reached_previous_stage, 0) as double
        ) as conversion_from_previous_stage
    from with_previous

)

select * from final
