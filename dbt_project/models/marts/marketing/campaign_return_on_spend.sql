-- One row per sent campaign: what it cost (the spreadsheet's matched spend, in US dollars) against
-- what it brought (campaign_performance). A lead is an attributed deal (a person who clicked and
-- then entered the sales pipeline). Ratios are null when their denominator is 0.

with

performance as (

    select * from {{ ref('campaign_performance') }}

),

matched_spend as (

    select * from {{ ref('int_campaign_spend_matched') }}

),

spend_per_campaign as (

    select
        campaign_id,
        count(*) as spend_rows,
        sum(amount_usd) as spend_usd
    from matched_spend
    where is_matched
    group by campaign_id

),

joined as (

    select
        performance.campaign_id,
        performance.campaign_title,
        performance.audience_id,
        performance.sent_at,
        coalesce(spend_per_campaign.spend_rows, 0) as spend_rows,
        coalesce(spend_per_campaign.spend_usd, 0) as spend_usd,
        performance.unique_clicks,
        performance.pipeline_deals,
        performance.pipeline_amount,
        performance.won_deals,
        performance.won_revenue
    from performance
    left join spend_per_campaign
        on performance.campaign_id = spend_per_campaign.campaign_id

),

final as (

    select
        cast(campaign_id as varchar) as campaign_id,
        cast(campaign_title as varchar) as campaign_title,
        cast(audience_id as varchar) as audience_id,
        cast(sent_at as timestamp) as sent_at,
        cast(date_trunc('month', sent_at) as date) as sent_month,
        cast(spend_rows as bigint) as spend_rows,
        cast(spend_rows > 0 as boolean) as has_spend,
        cast(spend_usd as decimal(18, 2)) as spend_usd,
        cast(unique_clicks as bigint) as unique_clicks,
        cast(pipeline_deals as bigint) as leads,
        cast(won_deals as bigint) as won_deals,
        cast(pipeline_amount as decimal(18, 2)) as pipeline_amount,
        cast(won_revenue as decimal(18, 2)) as won_revenue,
        {{ spend_ratios(
            'spend_usd', 'unique_clicks', 'pipeline_deals', 'won_deals', 'won_revenue'
        ) }}
    from joined

)

select * from final
