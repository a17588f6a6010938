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
        {{ spend_ratios('spend_usd', 'unique_clicks', 'leads', 'won_deals', 'won_revenue') }}
    from per_month

)

select * from final
