-- One row per person across MailChimp and HubSpot (matched on the normalized email in
-- int_people_unified), with both systems' ids. No email address: the key is a keyed hash of it.

with

people as (

    select * from {{ ref('int_people_unified') }}

),

final as (

    -- explicit casts: the model's contract enforces these types
    select
        cast(person_id as varchar) as person_id,
        cast(hubspot_contact_id as varchar) as hubspot_contact_id,
        cast(mailchimp_subscriber_hash as varchar) as mailchimp_subscriber_hash,
        cast(first_name as varchar) as first_name,
        cast(last_name as varchar) as last_name,
        cast(country_code as varchar) as country_code,
        cast(lifecycle_stage as varchar) as lifecycle_stage,
        cast(mailchimp_audience_count as bigint) as mailchimp_audience_count,
        cast(hubspot_contact_count as bigint) as hubspot_contact_count,
        cast(is_mailchimp_member as boolean) as is_mailchimp_member,
        cast(is_hubspot_contact as boolean) as is_hubspot_contact,
        cast(hubspot_created_at as timestamp) as hubspot_created_at
    from people

)

select * from final
