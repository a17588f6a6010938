{#
    A campaign name reduced for matching: lower case, every run of characters that are not letters
    or digits one space, trimmed. 'Acme Newsletter  #12 ' and 'acme newsletter 12' become
    'acme newsletter 12'; a typo still does not match (it is quarantined, not guessed).
#}
{% macro normalize_campaign_name(column) -%}
    trim(regexp_replace(lower({{ column }}), '[^a-z0-9]+', ' ', 'g'))
{%- endmacro %}
