with

source as (

    select * from {{ source('lake', 'email_events') }}

),

renamed as (

    select
        -- ids: the lake deduplicates on these four columns, so they identify an event
        -- (the time in UTC, so that the key does not depend on the session's time zone)
        {{ surrogate_key(['campaign_id', 'email_id', 'action', to_utc_timestamp('event_at')]) }}
            as email_event_id,
        campaign_id,
        list_id as audience_id,
        email_id as subscriber_hash,
        session_id,

        -- the person
        {{ normalize_email('email_address') }} as email,

        -- descriptive
        action as event_type,
        nullif(bounce_type, '') as bounce_type,
        nullif(url, '') as clicked_url,
        nullif(ip, '') as ip_address,

        -- timestamps and dates
        {{ to_utc_timestamp('event_at') }} as event_at,
        cast(event_date as date) as event_date

    from source

)

select * from renamed
