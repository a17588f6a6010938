-- Nothing typed into the spend tab is lost: every row loaded (blank rows are not loaded) is either
-- spend matched to a campaign or in quarantine_rows with its reason. Returns the difference, if any.

with

raw_rows as (

    select count(*) as raw_rows from {{ source('google_sheets', 'campaign_spend') }}

),

matched as (

    select count(*) as matched_rows
    from {{ ref('int_campaign_spend_matched') }}
    where is_matched

),

quarantined as (

    select count(*) as quarantined_rows
    from {{ ref('quarantine_rows') }}
    where source_stream = 'google_sheets.campaign_spend'

),

final as (

    select *
    from raw_rows, matched, quarantined
    where raw_rows != matched_rows + quarantined_rows

)

select * from final
