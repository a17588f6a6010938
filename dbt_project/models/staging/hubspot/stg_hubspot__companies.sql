with

source as (

    select * from {{ source('hubspot', 'companies') }}

),

renamed as (

    select
        -- ids
        id as company_id,

        -- descriptive
        nullif(trim(properties_name), '') as company_name,
        lower(nullif(trim(properties_domain), '')) as company_domain,
        nullif(trim(properties_industry), '') as industry,

        -- booleans
        archived as is_archived,

        -- timestamps
        {{ to_utc_timestamp('"createdAt"') }} as created_at,
        {{ to_utc_timestamp('"updatedAt"') }} as updated_at

    from source

)

select * from renamed
