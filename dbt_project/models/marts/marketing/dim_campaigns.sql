-- One row per MailChimp campaign in any status, with the audience it is addressed to.

with

campaigns as (

    select * from {{ ref('stg_mailchimp__campaigns') }}

),

audiences as (

    select * from {{ ref('stg_mailchimp__audiences') }}

),

final as (

    select
        cast(campaigns.campaign_id as varchar) as campaign_id,
        cast(campaigns.audience_id as varchar) as audience_id,
        cast(audiences.audience_name as varchar) as audience_name,
        cast(campaigns.campaign_title as varchar) as campaign_title,
        cast(campaigns.subject_line as varchar) as subject_line,
        cast(campaigns.from_name as varchar) as from_name,
        cast(campaigns.campaign_type as varchar) as campaign_type,
        cast(campaigns.campaign_status as varchar) as campaign_status,
        cast(campaigns.emails_sent as bigint) as emails_sent,
        cast(campaigns.is_sent as boolean) as is_sent,
        cast(campaigns.created_at as timestamp) as created_at,
        cast(campaigns.sent_at as timestamp) as sent_at
    from campaigns
    left join audiences
        on campaigns.audience_id = audiences.audience_id

)

select * from final
