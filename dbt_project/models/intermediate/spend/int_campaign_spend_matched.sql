-- Every spend row that parses, with the MailChimp campaign its typed name matches (by normalized
-- name: case, spacing and punctuation do not matter; a typo does). Rows matching no campaign stay
-- here with a null campaign_id: quarantine_rows lists them, the marts leave them out.

with

spend as (

    select * from {{ ref('stg_google_sheets__campaign_spend') }}

),

campaigns as (

    select * from {{ ref('stg_mailchimp__campaigns') }}

),

campaign_names as (

    select
        campaign_id,
        {{ normalize_campaign_name('campaign_title') }} as campaign_name_normalized
    from campaigns
    -- a name two campaigns share would credit both: such names match nothing instead
    qualify count(*) over (partition by campaign_name_normalized) = 1

),

final as (

    select
        spend.*,
        campaign_names.campaign_id,
        campaign_names.campaign_id is not null as is_matched
    from spend
    left join campaign_names
        on spend.campaign_name_normalized = campaign_names.campaign_name_normalized

)

select * from final
