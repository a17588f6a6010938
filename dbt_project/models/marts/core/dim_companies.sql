-- One row per HubSpot company, with its canonical industry and country and how many deals it has.

with

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

deals_per_company as (

    select
        company_id,
        count(*) as deal_count,
        count(*) filter (where is_closed_won) as won_deal_count
    from deals
    where company_id is not null
    group by company_id

),

final as (

    select
        cast(companies.company_id as varchar) as company_id,
        cast(companies.company_name as varchar) as company_name,
        cast(companies.company_domain as varchar) as company_domain,
        cast(companies.industry as varchar) as industry,
        cast(companies.country_code as varchar) as country_code,
        cast(coalesce(deals_per_company.deal_count, 0) as bigint) as deal_count,
        cast(coalesce(deals_per_company.won_deal_count, 0) as bigint) as won_deal_count,
        cast(companies.is_archived as boolean) as is_archived,
        cast(companies.created_at as timestamp) as created_at
    from companies
    left join deals_per_company
        on companies.company_id = deals_per_company.company_id

)

select * from final
