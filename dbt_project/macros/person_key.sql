{#
    The key of a person in the marts: a keyed hash (HMAC-like, sha256 of a secret key and the
    normalized email). The marts must not hold email addresses, and a plain hash of an email is no
    protection: anyone can hash a list of addresses and look them up. With a secret key only the
    warehouse's owner can. The key comes from the environment variable PEOPLE_HASH_KEY; the default
    is for development only and must be replaced wherever real people's data is loaded. Changing the
    key changes every person_id, so keep it stable between runs.
#}
{% macro person_key(email) -%}
    sha256('{{ env_var("PEOPLE_HASH_KEY", "dev-only-people-hash-key") }}' || {{ email }})
{%- endmacro %}
