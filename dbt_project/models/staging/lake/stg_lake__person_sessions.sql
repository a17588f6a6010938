with

source as (

    select * from {{ source('lake', 'person_sessions') }}

),

renamed as (

    select
        -- ids
        session_id,
        email_id as subscriber_hash,

        -- numerics
        duration_seconds,
        events,
        opens,
        clicks,
        campaigns,

        -- dates and timestamps
        {{ to_utc_timestamp('session_start_at') }} as session_start_at,
        {{ to_utc_timestamp('session_end_at') }} as session_end_at,
        cast(session_date as date) as session_date

    from source

)

select * from renamed
