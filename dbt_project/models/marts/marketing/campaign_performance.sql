-- One row per sent campaign: how its email was received (the lake's gold engagement), who
-- unsubscribed after it, and the deals attributed to it (see int_deals_attributed_to_campaigns
-- for the rule): every attributed deal is pipeline, the closed-won ones are also revenue.

with

campaigns as (

    select * from {{ ref('stg_mailchimp__campaigns') }}

),

engagement as (

    -- counted by the Spark job: unique people per campaign over all days
    select * from {{ ref('stg_lake__campaign_engagement') }}

),

attributed_deals as (

    select * from {{ ref('int_deals_attributed_to_campaigns') }}

),

members as (

    select * from {{ ref('stg_mailchimp__members') }}

),

sent_campaigns as (

    select * from campaigns
    where is_sent

),

sends_per_audience as (

    -- MailChimp does not say which email made someone unsubscribe; the rule here: the audience's
    -- latest campaign sent before the unsubscribe, i.e. the one sent between this send and the next
    select
        campaign_id,
        audience_id,
        sent_at,
        lead(sent_at) over (partition by audience_id order by sent_at asc) as next_sent_at
    from sent_campaigns

),

unsubscribes as (

    select
        sends_per_audience.campaign_id,
        count(*) as unsubscribes
    from sends_per_audience
    inner join members
        on
            sends_per_audience.audience_id = members.audience_id
            and sends_per_audience.sent_at <= members.last_changed_at
            and (
                sends_per_audience.next_sent_at is null
                or sends_per_audience.next_sent_at > members.last_changed_at
            )
    where members.member_status = 'unsubscribed'
    group by sends_per_audience.campaign_id

),

pipeline as (

    select
        campaign_id,
        -- every attributed deal, whatever its outcome: deals created after the click
        count(*) as pipeline_deals,
        coalesce(sum(amount), 0) as pipeline_amount
    from attributed_deals
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
        coalesce(unsubscribes.unsubscribes, 0) as unsubscribes,
        coalesce(pipeline.pipeline_deals, 0) as pipeline_deals,
        coalesce(pipeline.pipeline_amount, 0) as pipeline_amount,
        coalesce(won_deals.won_deals, 0) as won_deals,
        coalesce(won_deals.won_revenue, 0) as won_revenue
    from sent_campaigns
    left join engagement
        on sent_campaigns.campaign_id = engagement.campaign_id
    left join unsubscribes
        on sent_campaigns.campaign_id = unsubscribes.campaign_id
    left join pipeline
        on sent_campaigns.campaign_id = pipeline.campaign_id
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
        cast(unsubscribes as bigint) as unsubscribes,
        -- rates over the campaign's recipients; a campaign sent to nobody has rates of 0, not null
        cast(
            case when recipients > 0 then unique_opens / recipients else 0 end as double
        ) as unique_open_rate,
        cast(
            case when recipients > 0 then unique_clicks / recipients else 0 end as double
        ) as unique_click_rate,
        cast(won_deals as bigint) as won_deals,
        cast(won_revenue as decimal(18, 2)) as won_revenue,
        cast(pipeline_deals as bigint) as pipeline_deals,
        cast(pipeline_amount as decimal(18, 2)) as pipeline_amount
    from joined

)

select * from final
