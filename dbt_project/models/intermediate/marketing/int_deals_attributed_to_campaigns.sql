-- The attribution rule: a deal counts for a campaign when the deal's primary contact clicked that
-- campaign, and the deal was created at or after the person's FIRST click on it and at most
-- `attribution_window_days` days later (boundary included). People are matched across MailChimp and
-- HubSpot by normalized email. Multi-touch: one deal may count for several campaigns.
-- One row per (campaign, deal), won or not: the mart keeps the won ones; the others are pipeline.

with

email_events as (

    select * from {{ ref('stg_lake__email_events') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

first_clicks as (

    select
        campaign_id,
        email,
        min(event_at) as first_clicked_at
    from email_events
    where
        event_type = 'click'
        and email is not null
    group by campaign_id, email

),

deals_with_contact_email as (

    select
        deals.deal_id,
        deals.amount,
        deals.is_closed_won,
        deals.created_at as deal_created_at,
        contacts.email
    from deals
    inner join contacts
        on deals.primary_contact_id = contacts.contact_id
    where contacts.email is not null

),

attributed as (

    select
        first_clicks.campaign_id,
        deals_with_contact_email.deal_id,
        deals_with_contact_email.email,
        deals_with_contact_email.amount,
        deals_with_contact_email.is_closed_won,
        first_clicks.first_clicked_at,
        deals_with_contact_email.deal_created_at
    from first_clicks
    inner join deals_with_contact_email
        on first_clicks.email = deals_with_contact_email.email
    where
        deals_with_contact_email.deal_created_at >= first_clicks.first_clicked_at
        and deals_with_contact_email.deal_created_at
        <= first_clicks.first_clicked_at + interval ({{ var('attribution_window_days') }}) day

),

final as (

    select
        {{ surrogate_key(['campaign_id', 'deal_id']) }} as campaign_deal_id,
        campaign_id,
        deal_id,
        email,
        amount,
        is_closed_won,
        first_clicked_at,
        deal_created_at
    from attributed

)

select * from final
