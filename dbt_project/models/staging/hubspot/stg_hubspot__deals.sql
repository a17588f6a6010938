-- The clean rows of base_hubspot__deals (the others are in quarantine_rows),
-- without the columns kept for the quarantine.

with

deals as (

    select * from {{ ref('base_hubspot__deals') }}

),

final as (

    select * exclude (_airbyte_raw_id, raw_record, quarantine_reason)
    from deals
    where quarantine_reason is null

)

select * from final
