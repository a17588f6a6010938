-- One row per month in which campaigns were sent: their spend and what they brought.

with

campaigns as (

    select * from {{ ref('campaign_return_on_spend') }}

),

per_month as (

    select
        sent_month,
        count(*) as campaigns_sent,
        sum(spend_usd) as spend_usd,
        sum(unique_clicks) as unique_clicks,
        sum(leads) as leads,
        sum(won_deals) as won_deals,
        sum(won_revenue) as won_revenue
    from campaigns
    group by sent_month

),

final as (

    select
        cast(sent_month as date) as sent_month,
        cast(campaigns_sent as bigint) as campaigns_sent,
        cast(spend_usd as decimal(18, 2)) as spend_usd,
        cast(unique_clicks as bigint) as unique_clicks,
        cast(leads as bigint) as leads,
        cast(won_deals as bigint) as won_deals,
        cast(won_revenue as decimal(18, 2)) as won_revenue,
        cast(spend_usd / nullif(unique_clicks, 0) as double) as cost_per_click,
        cast(spend_usd / nullif(leads, 0) as double) as cost_per_lead,
        cast(spend_usd / nullif(won_deals, 0) as double) as cost_per_won_deal,
        cast(won_revenue / nullif(spend_usd, 0) as double) as return_on_spend
    from per_month

)

select * from final
