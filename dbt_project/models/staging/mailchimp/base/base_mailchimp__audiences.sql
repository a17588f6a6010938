-- Every MailChimp audience (the API's list), latest version only, cleaned, with the reason it
-- cannot be used (if any).

with

source as (

    select * from {{ source('mailchimp', 'lists') }}

),

deduplicated as (

    select * from source
    qualify {{ latest_version(['id']) }}

),

cleaned as (

    select
        -- ids
        id as audience_id,
        web_id as audience_web_id,

        -- descriptive
        {{ clean_string('name') }} as audience_name,
        {{ canonical_enum('visibility') }} as visibility,
        list_rating as audience_rating,
        {{ clean_string("campaign_defaults ->> 'from_name'") }} as default_from_name,
        {{ normalize_email("campaign_defaults ->> 'from_email'") }} as default_from_email,

        -- numbers
        try_cast(stats ->> 'member_count' as bigint) as member_count,

        -- booleans
        double_optin as is_double_optin,

        -- timestamps
        {{ to_utc_timestamp('date_created') }} as created_at,

        -- the row as loaded, for the quarantine
        _airbyte_raw_id,
        to_json(deduplicated) as raw_record

    from deduplicated

),

final as (

    select
        *,
        case when audience_id is null then 'missing id' end as quarantine_reason
    from cleaned

)

select * from final
