{#
    HubSpot's industry enumeration is spelled in upper snake case (COMPUTER_SOFTWARE); 'Computer
    Software' or 'computer-software' typed by hand map to it.
#}
{% macro canonical_industry(column) -%}
    nullif(upper(trim(regexp_replace(trim({{ column }}), '[^A-Za-z0-9]+', '_', 'g'), '_')), '')
{%- endmacro %}
