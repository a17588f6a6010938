with

source as (

    select * from {{ source('mailchimp', 'list_members') }}

),

renamed as (

    select
        -- ids: a member is one email in one audience, so the key combines the two
        {{ surrogate_key(['list_id', 'id']) }} as member_id,
        id as subscriber_hash,
        list_id as audience_id,
        unique_email_id,
        contact_id as mailchimp_contact_id,

        -- the person
        {{ normalize_email('email_address') }} as email,
        nullif(trim(merge_fields ->> 'FNAME'), '') as first_name,
        nullif(trim(merge_fields ->> 'LNAME'), '') as last_name,
        nullif(trim(full_name), '') as full_name,

        -- descriptive
        status as member_status,
        email_type,
        member_rating,
        nullif(trim(language), '') as preferred_language,
        nullif(trim(source), '') as signup_source,
        nullif(location ->> 'country_code', '') as country_code,
        tags_count,

        -- booleans
        vip as is_vip,

        -- timestamps
        {{ to_utc_timestamp('timestamp_signup') }} as signed_up_at,
        {{ to_utc_timestamp('timestamp_opt') }} as opted_in_at,
        {{ to_utc_timestamp('last_changed') }} as last_changed_at

    from source

)

select * from renamed
