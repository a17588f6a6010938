-- Every MailChimp campaign, latest version only, cleaned, with the reason it cannot be used
-- (if any).

with

source as (

    select * from {{ source('mailchimp', 'campaigns') }}

),

deduplicated as (

    select * from source
    qualify {{ latest_version(['id']) }}

),

cleaned as (

    select
        -- ids
        id as campaign_id,
        web_id as campaign_web_id,
        recipients ->> 'list_id' as audience_id,

        -- descriptive
        {{ clean_string("settings ->> 'title'") }} as campaign_title,
        {{ clean_string("settings ->> 'subject_line'") }} as subject_line,
        {{ clean_string("settings ->> 'from_name'") }} as from_name,
        {{ canonical_enum('type') }} as campaign_type,
        {{ canonical_enum('status') }} as campaign_status,
        {{ clean_string('content_type') }} as content_type,
        {{ clean_string('archive_url') }} as archive_url,

        -- numbers: emails_sent is the campaign's recipient count once sent
        coalesce(emails_sent, 0) as emails_sent,
        -- MailChimp's own report, kept to reconcile against the counts built from the lake's events
        try_cast(report_summary ->> 'opens' as bigint) as reported_opens,
        try_cast(report_summary ->> 'unique_opens' as bigint) as reported_unique_opens,
        try_cast(report_summary ->> 'clicks' as bigint) as reported_clicks,
        try_cast(report_summary ->> 'subscriber_clicks' as bigint) as reported_unique_clicks,

        -- booleans
        {{ canonical_enum('status') }} = 'sent' as is_sent,

        -- timestamps (an unsent campaign's send_time is empty in the API and null here)
        {{ to_utc_timestamp('create_time') }} as created_at,
        {{ to_utc_timestamp('send_time') }} as sent_at,

        -- the row as loaded, for the quarantine
        _airbyte_raw_id,
        to_json(deduplicated) as raw_record

    from deduplicated

),

final as (

    select
        *,
        case
            when campaign_id is null then 'missing id'
            -- a sent campaign without a send time cannot be placed in time (attribution, months)
            when is_sent and sent_at is null then 'sent without send_time'
        end as quarantine_reason
    from cleaned

)

select * from final
