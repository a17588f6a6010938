-- Every HubSpot deal, latest version only, cleaned, with the reason it cannot be used (if any).

with

source as (

    select * from {{ source('hubspot', 'deals') }}

),

deduplicated as (

    select * from source
    qualify {{ latest_version(['id'], '"updatedAt"') }}

),

cleaned as (

    select
        -- ids: HubSpot lists a deal's associated contacts and companies as JSON arrays of ids; the
        -- first of each is the one the deal is attributed to
        id as deal_id,
        contacts ->> '$[0]' as primary_contact_id,
        companies ->> '$[0]' as company_id,

        -- descriptive
        {{ clean_string('properties_dealname') }} as deal_name,
        {{ canonical_enum('properties_pipeline') }} as pipeline,
        {{ canonical_enum('properties_dealstage') }} as deal_stage,

        -- numbers: every HubSpot property arrives as a string, amounts included
        {{ parse_amount('properties_amount') }} as amount,
        {{ clean_string('properties_amount') }} as amount_as_sent,
        coalesce(json_array_length(contacts), 0) as contact_count,

        -- booleans
        try_cast({{ clean_string('properties_hs_is_closed_won') }} as boolean) as is_closed_won,
        archived as is_archived,

        -- timestamps
        {{ to_utc_timestamp('"createdAt"') }} as created_at,
        {{ to_utc_timestamp(clean_string('properties_closedate')) }} as closed_at,
        {{ to_utc_timestamp('"updatedAt"') }} as updated_at,

        -- the row as loaded, for the quarantine
        _airbyte_raw_id,
        to_json(deduplicated) as raw_record

    from deduplicated

),

final as (

    select
        * exclude (amount_as_sent),
        case
            when deal_id is null then 'missing id'
            when created_at is null then 'missing created_at'
            -- a deal without a value cannot count as pipeline or revenue
            when amount_as_sent is null then 'missing amount'
            when amount is null then 'unparseable amount'
            when amount < 0 then 'negative amount'
        end as quarantine_reason
    from cleaned

)

select * from final
