-- One row per sent campaign: how its email was received (from the lake's events) and the closed-won
-- deals attributed to it (see int_deals_attributed_to_campaigns for the rule).

with

campaigns as (

    select * from {{ ref('stg_mailchimp__campaigns') }}

),

email_events as (

    select * from {{ ref('stg_lake__email_events') }}

),

attributed_deals as (

    select * from {{ ref('int_deals_attributed_to_campaigns') }}

),

sent_campaigns as (

    select * from campaigns
    where is_sent

),

engagement as (

    select
        campaign_id,
        count(*) filter (where event_type = 'open') as opens,
        count(distinct subscriber_hash) filter (where event_type = 'open') as unique_opens,
        count(*) filter (where event_type = 'click') as clicks,
        count(distinct subscriber_hash) filter (where event_type = 'click') as unique_clicks,
        count(*) filter (where event_type = 'bounce') as bounces
    from email_events
    group by campaign_id

),

won_deals as (

    select
        campaign_id,
        -- a campaign is credited once per deal; the model is already one row per (campaign, deal)
        count(*) as won_deals,
        sum(amount) as won_revenue
    from attributed_deals
    where is_closed_won
    group by campaign_id

),

joined as (

    select
        sent_campaigns.campaign_id,
        sent_campaigns.campaign_title,
        sent_campaigns.subject_line,
        sent_campaigns.audience_id,
        sent_campaigns.sent_at,
        sent_campaigns.emails_sent as recipients,
        -- campaigns without events or attributed deals still get a row, with zeros
        coalesce(engagement.opens, 0) as opens,
        coalesce(engagement.unique_opens, 0) as unique_opens,
        coalesce(engagement.clicks, 0) as clicks,
        coalesce(engagement.unique_clicks, 0) as unique_clicks,
        coalesce(engagement.bounces, 0) as bounces,
        coalesce(won_deals.won_deals, 0) as won_deals,
        coalesce(won_deals.won_revenue, 0) as won_revenue
    from sent_campaigns
    left join engagement
        on sent_campaigns.campaign_id = engagement.campaign_id
    left join won_deals
        on sent_campaigns.campaign_id = won_deals.campaign_id

),

final as (

    -- explicit casts: the model's contract enforces these types
    select
        cast(campaign_id as varchar) as campaign_id,
        cast(campaign_title as varchar) as campaign_title,
        cast(subject_line as varchar) as subject_line,
        cast(audience_id as varchar) as audience_id,
        cast(sent_at as timestamp) as sent_at,
        cast(recipients as bigint) as recipients,
        cast(opens as bigint) as opens,
        cast(unique_opens as bigint) as unique_opens,
        cast(clicks as bigint) as clicks,
        cast(unique_clicks as bigint) as unique_clicks,
        cast(bounces as bigint) as bounces,
        -- rates over the campaign's recipients; a campaign sent to nobody has rates of 0, not null
        cast(
            case when recipients > 0 then unique_opens / recipients else 0 end as double
        ) as unique_open_rate,
        cast(
            case when recipients > 0 then unique_clicks / recipients else 0 end as double
        ) as unique_click_rate,
        cast(won_deals as bigint) as won_deals,
        cast(won_revenue as decimal(18, 2)) as won_revenue
    from joined

)

select * from final
