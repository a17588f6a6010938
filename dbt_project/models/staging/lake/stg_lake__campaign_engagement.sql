with

source as (

    select * from {{ source('lake', 'campaign_engagement') }}

),

renamed as (

    select
        -- ids
        campaign_id,

        -- numerics: counted by the Spark job over the campaign's whole life
        opens,
        unique_openers as unique_opens,
        clicks,
        unique_clickers as unique_clicks,
        bounces,

        -- timestamps
        {{ to_utc_timestamp('first_event_at') }} as first_event_at,
        {{ to_utc_timestamp('last_event_at') }} as last_event_at

    from source

)

select * from renamed
