-- One row per HubSpot deal, joined to its primary contact (as a person of dim_people) and its
-- company. Deals without a contact or company keep null keys rather than disappearing.

with

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

joined as (

    select
        deals.deal_id,
        deals.primary_contact_id,
        -- the same keyed hash as dim_people, from the contact's email: a contact without an email
        -- is nobody's, so the deal has no person
        case
            when contacts.email is not null then {{ person_key('contacts.email') }}
        end as person_id,
        companies.company_id,
        deals.deal_name,
        deals.pipeline,
        deals.deal_stage,
        deals.amount,
        deals.contact_count,
        deals.is_closed_won,
        deals.deal_stage in ('closedwon', 'closedlost') as is_closed,
        deals.created_at,
        deals.closed_at
    from deals
    left join contacts
        on deals.primary_contact_id = contacts.contact_id
    left join companies
        on deals.company_id = companies.company_id

),

final as (

    select
        cast(deal_id as varchar) as deal_id,
        cast(person_id as varchar) as person_id,
        cast(primary_contact_id as varchar) as primary_contact_id,
        cast(company_id as varchar) as company_id,
        cast(deal_name as varchar) as deal_name,
        cast(pipeline as varchar) as pipeline,
        cast(deal_stage as varchar) as deal_stage,
        cast(amount as decimal(18, 2)) as amount,
        cast(contact_count as bigint) as contact_count,
        cast(coalesce(is_closed_won, false) as boolean) as is_closed_won,
        cast(is_closed as boolean) as is_closed,
        cast(created_at as timestamp) as created_at,
        cast(closed_at as timestamp) as closed_at
    from joined

)

select * from final
