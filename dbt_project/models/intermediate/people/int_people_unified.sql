-- One row per person, identified by their normalized email, whether MailChimp, HubSpot or both know
-- them. Each system can hold the same person more than once (a MailChimp member per audience, a
-- duplicate HubSpot contact), so each side is first reduced to one row per email.
-- A table, not a view like the other intermediate models: person_id is a keyed hash whose key only
-- dbt's connections hold (macros/person_key.sql), so a view would fail when queried outside dbt.

{{ config(materialized='table') }}

with

members as (

    select * from {{ ref('stg_mailchimp__members') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

mailchimp_people as (

    select
        email,
        subscriber_hash,
        first_name,
        last_name,
        country_code,
        count(*) over (partition by email) as audience_count
    from members
    where email is not null
    -- the most recently changed membership carries the freshest name
    qualify row_number() over (
        partition by email
        order by last_changed_at desc nulls last, audience_id asc
    ) = 1

),

hubspot_people as (

    select
        email,
        contact_id,
        first_name,
        last_name,
        lifecycle_stage,
        country_code,
        created_at,
        count(*) over (partition by email) as contact_count
    from contacts
    where email is not null
    -- of duplicate contacts, the oldest is the one HubSpot's own merge would keep
    qualify row_number() over (
        partition by email
        order by created_at asc, contact_id asc
    ) = 1

),

unified as (

    select
        hubspot_people.contact_id as hubspot_contact_id,
        mailchimp_people.subscriber_hash as mailchimp_subscriber_hash,
        coalesce(hubspot_people.email, mailchimp_people.email) as email,
        -- the CRM is the system of record for names; MailChimp fills the gaps
        coalesce(hubspot_people.first_name, mailchimp_people.first_name) as first_name,
        coalesce(hubspot_people.last_name, mailchimp_people.last_name) as last_name,
        coalesce(hubspot_people.country_code, mailchimp_people.country_code) as country_code,
        hubspot_people.lifecycle_stage,
        hubspot_people.created_at as hubspot_created_at,
        coalesce(mailchimp_people.audience_count, 0) as mailchimp_audience_count,
        coalesce(hubspot_people.contact_count, 0) as hubspot_contact_count,
        mailchimp_people.email is not null as is_mailchimp_member,
        hubspot_people.email is not null as is_hubspot_contact
    from hubspot_people
    full outer join mailchimp_people
        on hubspot_people.email = mailchimp_people.email

),

final as (

    select
        -- a keyed hash, not a plain one: the marts carry person_id, never the email
        {{ person_key('email') }} as person_id,
        email,
        hubspot_contact_id,
        mailchimp_subscriber_hash,
        first_name,
        last_name,
        country_code,
        lifecycle_stage,
        hubspot_created_at,
        mailchimp_audience_count,
        hubspot_contact_count,
        is_mailchimp_member,
        is_hubspot_contact
    from unified

)

select * from final
