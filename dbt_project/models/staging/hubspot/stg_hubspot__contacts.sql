with

source as (

    select * from {{ source('hubspot', 'contacts') }}

),

renamed as (

    select
        -- ids
        id as contact_id,

        -- the person
        {{ normalize_email('properties_email') }} as email,
        nullif(trim(properties_firstname), '') as first_name,
        nullif(trim(properties_lastname), '') as last_name,

        -- descriptive
        nullif(trim(properties_lifecyclestage), '') as lifecycle_stage,

        -- booleans
        archived as is_archived,

        -- timestamps
        {{ to_utc_timestamp('"createdAt"') }} as created_at,
        {{ to_utc_timestamp('"updatedAt"') }} as updated_at

    from source

)

select * from renamed
