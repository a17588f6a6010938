-- Every HubSpot company, latest version only, cleaned, with the reason it cannot be used (if any).

with

source as (

    select * from {{ source('hubspot', 'companies') }}

),

deduplicated as (

    select * from source
    qualify {{ latest_version(['id'], '"updatedAt"') }}

),

cleaned as (

    select
        -- ids
        id as company_id,

        -- descriptive
        {{ clean_string('properties_name') }} as company_name,
        lower({{ clean_string('properties_domain') }}) as company_domain,
        {{ canonical_industry('properties_industry') }} as industry,
        {{ canonical_country('properties_country') }} as country_code,

        -- booleans
        archived as is_archived,

        -- timestamps
        {{ to_utc_timestamp('"createdAt"') }} as created_at,
        {{ to_utc_timestamp('"updatedAt"') }} as updated_at,

        -- the row as loaded, for the quarantine
        _airbyte_raw_id,
        to_json(deduplicated) as raw_record

    from deduplicated

),

final as (

    select
        *,
        case when company_id is null then 'missing id' end as quarantine_reason
    from cleaned

)

select * from final
