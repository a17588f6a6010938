-- Every HubSpot contact, latest version only, cleaned, with the reason it cannot be used (if any).
-- stg_hubspot__contacts keeps the clean rows, quarantine_rows the others: no row is dropped.

with

source as (

    select * from {{ source('hubspot', 'contacts') }}

),

deduplicated as (

    select * from source
    qualify {{ latest_version(['id'], '"updatedAt"') }}

),

cleaned as (

    select
        -- ids
        id as contact_id,

        -- the person
        {{ normalize_email('properties_email') }} as email,
        {{ clean_name('properties_firstname') }} as first_name,
        {{ clean_name('properties_lastname') }} as last_name,
        {{ canonical_country('properties_country') }} as country_code,

        -- descriptive
        {{ canonical_enum('properties_lifecyclestage') }} as lifecycle_stage,

        -- booleans
        archived as is_archived,

        -- timestamps: the createdate property is when the person became a contact as HubSpot's
        -- users see it (an import can set it to an earlier date); the record's createdAt otherwise
        coalesce(
            {{ to_utc_timestamp(clean_string('properties_createdate')) }},
            {{ to_utc_timestamp('"createdAt"') }}
        ) as created_at,
        {{ to_utc_timestamp('"updatedAt"') }} as updated_at,

        -- the row as loaded, for the quarantine
        _airbyte_raw_id,
        to_json(deduplicated) as raw_record

    from deduplicated

),

final as (

    select
        *,
        case
            when contact_id is null then 'missing id'
            -- a contact without an email is normal in a CRM; one with an unusable email is not
            when email is not null and not {{ is_valid_email('email') }} then 'invalid email'
        end as quarantine_reason
    from cleaned

)

select * from final
