with

source as (

    select * from {{ source('mailchimp', 'campaigns') }}

),

renamed as (

    select
        -- ids
        id as campaign_id,
        web_id as campaign_web_id,
        recipients ->> 'list_id' as audience_id,

        -- descriptive
        nullif(trim(settings ->> 'title'), '') as campaign_title,
        nullif(trim(settings ->> 'subject_line'), '') as subject_line,
        nullif(trim(settings ->> 'from_name'), '') as from_name,
        type as campaign_type,
        status as campaign_status,
        content_type,
        nullif(archive_url, '') as archive_url,

        -- numbers: emails_sent is the campaign's recipient count once sent
        coalesce(emails_sent, 0) as emails_sent,
        -- MailChimp's own report, kept to reconcile against the counts built from the lake's events
        cast(report_summary ->> 'opens' as bigint) as reported_opens,
        cast(report_summary ->> 'unique_opens' as bigint) as reported_unique_opens,
        cast(report_summary ->> 'clicks' as bigint) as reported_clicks,
        cast(report_summary ->> 'subscriber_clicks' as bigint) as reported_unique_clicks,

        -- booleans
        status = 'sent' as is_sent,

        -- timestamps (an unsent campaign's send_time is empty in the API and null here)
        {{ to_utc_timestamp('create_time') }} as created_at,
        {{ to_utc_timestamp('send_time') }} as sent_at

    from source

)

select * from renamed
