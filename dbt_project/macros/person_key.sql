{#
    The key of a person in the marts: a keyed hash (HMAC-like, sha256 of a secret key and the
    normalized email). The marts must not hold email addresses, and a plain hash of an email is no
    protection: anyone can hash a list of addresses and look them up. With a secret key only the
    warehouse's owner can. The key comes from the environment variable PEOPLE_HASH_KEY; the default
    is for development only and must be replaced wherever real people's data is loaded. Changing the
    key changes every person_id, so keep it stable between runs.

    The key never appears in SQL: the plugin plugins/people_hash_key.py sets it on every dbt
    connection as the DuckDB variable people_hash_key. Without it (a session outside dbt), the
    hash fails loudly instead of giving null keys.
#}
{% macro person_key(email) -%}
    sha256(
        coalesce(
            cast(getvariable('people_hash_key') as varchar),
            error('people_hash_key is not set: run through dbt, or SET VARIABLE people_hash_key')
        ) || {{ email }}
    )
{%- endmacro %}
