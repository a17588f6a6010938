{#
    What a campaign's (or a month's) spend bought, as the four columns of the spend marts: cost per
    click, per lead and per won deal, and return on spend (revenue per dollar spent: 2.0 means every
    dollar brought two). Null where the divisor is zero.
#}
{% macro spend_ratios(spend, clicks, leads, won_deals, revenue) -%}
    cast({{ spend }} / nullif({{ clicks }}, 0) as double) as cost_per_click,
    cast({{ spend }} / nullif({{ leads }}, 0) as double) as cost_per_lead,
    cast({{ spend }} / nullif({{ won_deals }}, 0) as double) as cost_per_won_deal,
    cast({{ revenue }} / nullif({{ spend }}, 0) as double) as return_on_spend
{%- endmacro %}
