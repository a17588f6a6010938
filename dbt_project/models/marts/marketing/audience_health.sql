-- One row per audience per month, from the month of its first member to the latest month with any
-- activity: members who joined, who left (unsubscribed or cleaned by MailChimp after bounces), the
-- bounces of the campaigns sent to it, and the members at the end of the month.
-- A member's status is only known as of now, so a member who left is counted as leaving in the
-- month of their last change: the best the API's current state can say.

with

members as (

    select * from {{ ref('stg_mailchimp__members') }}

),

email_events as (

    select * from {{ ref('stg_lake__email_events') }}

),

member_joins as (

    select
        audience_id,
        date_trunc('month', coalesce(opted_in_at, signed_up_at)) as activity_month,
        count(*) as new_members,
        0 as unsubscribes,
        0 as cleaned,
        0 as bounces
    from members
    where coalesce(opted_in_at, signed_up_at) is not null
    group by audience_id, activity_month

),

member_departures as (

    select
        audience_id,
        date_trunc('month', last_changed_at) as activity_month,
        0 as new_members,
        count(*) filter (where member_status = 'unsubscribed') as unsubscribes,
        count(*) filter (where member_status = 'cleaned') as cleaned,
        0 as bounces
    from members
    where member_status in ('unsubscribed', 'cleaned')
    group by audience_id, activity_month

),

bounces as (

    select
        audience_id,
        date_trunc('month', event_at) as activity_month,
        0 as new_members,
        0 as unsubscribes,
        0 as cleaned,
        count(*) as bounces
    from email_events
    where event_type = 'bounce'
    group by audience_id, activity_month

),

activity as (

    select * from member_joins
    union all
    select * from member_departures
    union all
    select * from bounces

),

last_month as (

    select max(activity_month) as activity_month from activity

),

audience_months as (

    -- every month of each audience, including quiet ones, so the running total has no gaps
    select
        activity.audience_id,
        cast(unnest(generate_series(
            min(activity.activity_month),
            any_value(last_month.activity_month),
            interval 1 month
        )) as date) as activity_month
    from activity
    cross join last_month
    group by activity.audience_id

),

monthly as (

    select
        audience_months.audience_id,
        audience_months.activity_month,
        coalesce(sum(activity.new_members), 0) as new_members,
        coalesce(sum(activity.unsubscribes), 0) as unsubscribes,
        coalesce(sum(activity.cleaned), 0) as cleaned,
        coalesce(sum(activity.bounces), 0) as bounces
    from audience_months
    left join activity
        on
            audience_months.audience_id = activity.audience_id
            and audience_months.activity_month = activity.activity_month
    group by audience_months.audience_id, audience_months.activity_month

),

running as (

    select
        *,
        unsubscribes + cleaned as churned_members,
        sum(new_members - unsubscribes - cleaned) over (
            partition by audience_id
            order by activity_month asc
            rows between unbounded preceding and current row
        ) as members_at_month_end
    from monthly

),

final as (

    select
        cast({{ surrogate_key(['audience_id', 'activity_month']) }} as varchar)
            as audience_month_id,
        cast(audience_id as varchar) as audience_id,
        cast(activity_month as date) as activity_month,
        cast(new_members as bigint) as new_members,
        cast(unsubscribes as bigint) as unsubscribes,
        cast(cleaned as bigint) as cleaned,
        cast(churned_members as bigint) as churned_members,
        cast(bounces as bigint) as bounces,
        cast(members_at_month_end as bigint) as members_at_month_end,
        -- the share of the month's members (there at its start, or joining in it) who left
        cast(
            case
                when members_at_month_end + churned_members > 0
                    then churned_members / (members_at_month_end + churned_members)
                else 0
            end as double
        ) as churn_rate
    from running

)

select * from final
