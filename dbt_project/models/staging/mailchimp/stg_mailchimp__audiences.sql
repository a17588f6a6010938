with

source as (

    select * from {{ source('mailchimp', 'lists') }}

),

renamed as (

    select
        -- ids
        id as audience_id,
        web_id as audience_web_id,

        -- descriptive
        nullif(trim(name), '') as audience_name,
        visibility,
        list_rating as audience_rating,
        nullif(trim(campaign_defaults ->> 'from_name'), '') as default_from_name,
        {{ normalize_email("campaign_defaults ->> 'from_email'") }} as default_from_email,

        -- numbers
        cast(stats ->> 'member_count' as bigint) as member_count,

        -- booleans
        double_optin as is_double_optin,

        -- timestamps
        {{ to_utc_timestamp('date_created') }} as created_at

    from source

)

select * from renamed
