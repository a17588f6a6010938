with

source as (

    select * from {{ source('lake', 'person_engagement') }}

),

renamed as (

    select
        -- ids
        email_id as subscriber_hash,

        -- the person
        {{ normalize_email('email_address') }} as email,

        -- numerics: as of as_of_date, computed by the Spark job
        recency_days,
        frequency_30d,
        frequency_90d,
        opens_90d,
        clicks_90d,
        bounces_90d,
        engagement_score,

        -- dates and timestamps
        {{ to_utc_timestamp('first_event_at') }} as first_event_at,
        {{ to_utc_timestamp('last_engaged_at') }} as last_engaged_at,
        cast(as_of_date as date) as as_of_date

    from source

)

select * from renamed
