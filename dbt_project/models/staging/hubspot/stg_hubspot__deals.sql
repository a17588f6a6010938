with

source as (

    select * from {{ source('hubspot', 'deals') }}

),

renamed as (

    select
        -- ids: HubSpot lists a deal's associated contacts and companies as JSON arrays of ids; the
        -- first of each is the one the deal is attributed to
        id as deal_id,
        contacts ->> '$[0]' as primary_contact_id,
        companies ->> '$[0]' as company_id,

        -- descriptive
        nullif(trim(properties_dealname), '') as deal_name,
        nullif(trim(properties_pipeline), '') as pipeline,
        nullif(trim(properties_dealstage), '') as deal_stage,

        -- numbers: every HubSpot property arrives as a string, amounts included
        cast(nullif(trim(properties_amount), '') as decimal(18, 2)) as amount,
        coalesce(json_array_length(contacts), 0) as contact_count,

        -- booleans
        cast(nullif(trim(properties_hs_is_closed_won), '') as boolean) as is_closed_won,
        archived as is_archived,

        -- timestamps
        {{ to_utc_timestamp('"createdAt"') }} as created_at,
        {{ to_utc_timestamp("nullif(trim(properties_closedate), '')") }} as closed_at,
        {{ to_utc_timestamp('"updatedAt"') }} as updated_at

    from source

)

select * from renamed
