{#
    A money amount from a string as people type it: '1,200.00', '$950', '950 USD'. Everything but
    digits, the decimal point and a minus sign (currency signs and codes, thousands separators,
    spaces) is removed; what is left must be a number, else null (the deals' base model
    quarantines a deal without a readable amount).
#}
{% macro parse_amount(column) -%}
    try_cast(nullif(regexp_replace(trim({{ column }}), '[^0-9.-]', '', 'g'), '') as decimal(18, 2))
{%- endmacro %}
