-- One row per audience and quarter with a target in the spreadsheet: the pipeline and revenue its
-- campaigns (sent in that quarter) brought, against the target.

with

targets as (

    select * from {{ ref('stg_google_sheets__pipeline_targets') }}

),

campaigns as (

    select * from {{ ref('campaign_return_on_spend') }}

),

audiences as (

    select * from {{ ref('stg_mailchimp__audiences') }}

),

per_audience_quarter as (

    select
        audiences.audience_name,
        cast(date_trunc('quarter', campaigns.sent_at) as date) as quarter_start_date,
        sum(campaigns.pipeline_amount) as pipeline_amount,
        sum(campaigns.won_revenue) as won_revenue,
        sum(campaigns.spend_usd) as spend_usd
    from campaigns
    inner join audiences
        on campaigns.audience_id = audiences.audience_id
    group by audiences.audience_name, date_trunc('quarter', campaigns.sent_at)

),

final as (

    select
        cast(targets.pipeline_target_id as varchar) as pipeline_target_id,
        cast(targets.audience_name as varchar) as audience_name,
        cast(targets.quarter_start_date as date) as quarter_start_date,
        cast(targets.target_pipeline_usd as decimal(18, 2)) as target_pipeline_usd,
        cast(
            coalesce(per_audience_quarter.pipeline_amount, 0) as decimal(18, 2)
        ) as pipeline_amount,
        cast(coalesce(per_audience_quarter.won_revenue, 0) as decimal(18, 2)) as won_revenue,
        cast(coalesce(per_audience_quarter.spend_usd, 0) as decimal(18, 2)) as spend_usd,
        cast(
            coalesce(per_audience_quarter.pipeline_amount, 0)
            / nullif(targets.target_pipeline_usd, 0) as double
        ) as target_attainment
    from targets
    left join per_audience_quarter
        on
            targets.audience_name = per_audience_quarter.audience_name
            and targets.quarter_start_date = per_audience_quarter.quarter_start_date

)

select * from final
