{#
    The cleaning rules of the staging layer, one macro per kind of value, so that every source applies
    the same rule (a rule written twice drifts). Each returns a SQL expression; none drops a row:
    a value that cannot be cleaned becomes null, and the base models decide whether that puts the
    row in quarantine.
#}

{#- Empty or blank strings become null: HubSpot sends '' for a property that was cleared. -#}
{% macro clean_string(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#-
    A person's name, trimmed; typed all in lower or all in upper case ('ADA', 'ada') it gets a capital
    first letter and lower case after it. A name in mixed case ('McAdam') is kept as typed: the
    person chose that spelling. Runs of spaces inside the name become one.
-#}
{% macro clean_name(column) -%}
    {%- set name = "regexp_replace(" ~ clean_string(column) ~ ", '\\s+', ' ', 'g')" -%}
    case
        when {{ name }} in (lower({{ name }}), upper({{ name }}))
            then upper(left({{ name }}, 1)) || lower(substr({{ name }}, 2))
        else {{ name }}
    end
{%- endmacro %}

{#-
    A money amount from a string as people type it: '1,200.00', '$950', '950 USD'. Everything but
    digits, the decimal point and a minus sign (currency signs and codes, thousands separators,
    spaces) is removed; what is left must be a number, else null (the deals' base model
    quarantines a deal without a readable amount).
-#}
{% macro parse_amount(column) -%}
    try_cast(nullif(regexp_replace(trim({{ column }}), '[^0-9.-]', '', 'g'), '') as decimal(18, 2))
{%- endmacro %}

{#-
    One spelling for an enumeration such as a lifecycle stage or a member status: 'Marketing
    Qualified Lead', 'marketing_qualified_lead' and 'marketingqualifiedlead' are the same value, the
    API's own spelling (lower case, no separators).
-#}
{% macro canonical_enum(column) -%}
    nullif(lower(regexp_replace(trim({{ column }}), '[^A-Za-z0-9]', '', 'g')), '')
{%- endmacro %}

{#-
    HubSpot's industry enumeration is spelled in upper snake case (COMPUTER_SOFTWARE); 'Computer
    Software' or 'computer-software' typed by hand map to it.
-#}
{% macro canonical_industry(column) -%}
    nullif(upper(trim(regexp_replace(trim({{ column }}), '[^A-Za-z0-9]+', '_', 'g'), '_')), '')
{%- endmacro %}

{#-
    Whether a normalized email looks like an address: something, one @, a domain with a suffix of
    two letters or more, and no two dots in a row (which no mail server accepts).
-#}
{% macro is_valid_email(column) -%}
    coalesce(
        regexp_full_match({{ column }}, '[^@\s]+@[^@\s]+\.[^@\s.]{2,}')
        and not contains({{ column }}, '..'),
        false
    )
{%- endmacro %}

{#-
    A country as its ISO 3166 alpha-2 code. Letters only, upper case, are looked up in the
    country_aliases seed ('United Kingdom', 'U.K.' and 'uk' all become GB); a two-letter value that
    is not an alias is taken as a code already; anything else is unknown (null).
-#}
{% macro canonical_country(column) -%}
    {%- set letters = "upper(regexp_replace(trim(" ~ column ~ "), '[^A-Za-z]', '', 'g'))" -%}
    coalesce(
        (select country_aliases.country_code from {{ ref('country_aliases') }} as country_aliases
            where country_aliases.alias = {{ letters }}),
        case when length({{ letters }}) = 2 then {{ letters }} end
    )
{%- endmacro %}
