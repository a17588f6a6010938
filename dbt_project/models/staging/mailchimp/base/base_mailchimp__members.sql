-- Every MailChimp audience member, latest version only, cleaned, with the reason it cannot be used
-- (if any).

with

source as (

    select * from {{ source('mailchimp', 'list_members') }}

),

deduplicated as (

    select * from source
    qualify {{ latest_version(['list_id', 'id'], 'last_changed') }}

),

cleaned as (

    select
        -- ids: a member is one email in one audience, so the key combines the two
        {{ surrogate_key(['list_id', 'id']) }} as member_id,
        id as subscriber_hash,
        list_id as audience_id,
        unique_email_id,
        contact_id as mailchimp_contact_id,

        -- the person
        {{ normalize_email('email_address') }} as email,
        {{ clean_name("merge_fields ->> 'FNAME'") }} as first_name,
        {{ clean_name("merge_fields ->> 'LNAME'") }} as last_name,
        {{ clean_string('full_name') }} as full_name,

        -- descriptive
        {{ canonical_enum('status') }} as member_status,
        {{ canonical_enum('email_type') }} as email_type,
        member_rating,
        {{ clean_string('language') }} as preferred_language,
        {{ clean_string('source') }} as signup_source,
        {{ canonical_country("location ->> 'country_code'") }} as country_code,
        tags_count,

        -- booleans
        vip as is_vip,

        -- timestamps
        {{ to_utc_timestamp('timestamp_signup') }} as signed_up_at,
        {{ to_utc_timestamp('timestamp_opt') }} as opted_in_at,
        {{ to_utc_timestamp('last_changed') }} as last_changed_at,

        -- the row as loaded, for the quarantine
        _airbyte_raw_id,
        to_json(deduplicated) as raw_record

    from deduplicated

),

final as (

    select
        *,
        case
            when subscriber_hash is null or audience_id is null then 'missing id'
            -- MailChimp cannot hold a member without an address: this row is broken, not anonymous
            when email is null then 'missing email'
            when not {{ is_valid_email('email') }} then 'invalid email'
        end as quarantine_reason
    from cleaned

)

select * from final
