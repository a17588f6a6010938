-- One row per person across MailChimp and HubSpot (matched on the normalized email in
-- int_people_unified), with both systems' ids, and how they engage with email from the lake's
-- gold tables. No email address: the key is a keyed hash of it.

with

people as (

    select * from {{ ref('int_people_unified') }}

),

engagement as (

    select * from {{ ref('stg_lake__person_engagement') }}

),

sessions as (

    select * from {{ ref('stg_lake__person_sessions') }}

),

engagement_per_email as (

    -- one row per email: a person can have been a recipient under two addresses' hashes only if
    -- MailChimp changed the address, so keep the most engaged row
    select * from engagement
    where email is not null
    qualify row_number() over (
        partition by email order by engagement_score desc, subscriber_hash asc
    ) = 1

),

sessions_per_recipient as (

    select
        subscriber_hash,
        count(*) as activity_sessions
    from sessions
    group by subscriber_hash

),

people_engagement as (

    select
        people.person_id,
        engagement_per_email.engagement_score,
        engagement_per_email.last_engaged_at,
        engagement_per_email.frequency_90d,
        sessions_per_recipient.activity_sessions
    from people
    inner join engagement_per_email
        on people.email = engagement_per_email.email
    left join sessions_per_recipient
        on engagement_per_email.subscriber_hash = sessions_per_recipient.subscriber_hash

),

final as (

    -- explicit casts: the model's contract enforces these types
    select
        cast(people.person_id as varchar) as person_id,
        cast(people.hubspot_contact_id as varchar) as hubspot_contact_id,
        cast(people.mailchimp_subscriber_hash as varchar) as mailchimp_subscriber_hash,
        cast(people.first_name as varchar) as first_name,
        cast(people.last_name as varchar) as last_name,
        cast(people.country_code as varchar) as country_code,
        cast(people.lifecycle_stage as varchar) as lifecycle_stage,
        cast(people.mailchimp_audience_count as bigint) as mailchimp_audience_count,
        cast(people.hubspot_contact_count as bigint) as hubspot_contact_count,
        cast(people.is_mailchimp_member as boolean) as is_mailchimp_member,
        cast(people.is_hubspot_contact as boolean) as is_hubspot_contact,
        cast(people.hubspot_created_at as timestamp) as hubspot_created_at,
        -- engagement, from the lake; 0 for a person who never received a tracked email
        cast(coalesce(people_engagement.engagement_score, 0) as double) as engagement_score,
        cast(people_engagement.last_engaged_at as timestamp) as last_engaged_at,
        cast(coalesce(people_engagement.frequency_90d, 0) as bigint) as opens_and_clicks_90d,
        cast(coalesce(people_engagement.activity_sessions, 0) as bigint) as activity_sessions
    from people
    left join people_engagement
        on people.person_id = people_engagement.person_id

)

select * from final
