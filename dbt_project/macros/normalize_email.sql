{#
    The one rule that makes an email a join key across MailChimp, HubSpot and the lake: the same person
    is typed with different case and stray spaces in each system. Every model that exposes `email`
    uses this macro, so the rule cannot drift between them.
#}
{% macro normalize_email(column) -%}
    lower(nullif(trim({{ column }}), ''))
{%- endmacro %}
