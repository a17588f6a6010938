{#
    A money amount as a person types it in a spreadsheet ('1,200.00', '$950', '950 USD',
    '1.200,50', '€300') or as a number property holds it (a deal's amount: '950.00', '950.500'). Currency signs, codes and spaces go; a comma followed by
    one or two final digits is a decimal comma (then dots are thousands separators), any other
    comma separates thousands. What is left must be a number, else null ('TBD', 'see invoice'):
    the models quarantine what does not parse.
#}
{% macro parse_amount(column) -%}
    try_cast(
        nullif(
            case
                when regexp_matches(regexp_replace(trim({{ column }}), '[^0-9.,-]', '', 'g'), ',[0-9]{1,2}$')
                    then replace(replace(regexp_replace(trim({{ column }}), '[^0-9.,-]', '', 'g'), '.', ''), ',', '.')
                else replace(regexp_replace(trim({{ column }}), '[^0-9.,-]', '', 'g'), ',', '')
            end,
            ''
        ) as decimal(18, 2)
    )
{%- endmacro %}
