"""The marketing team's spreadsheet: campaign spend per month and pipeline targets, typed by hand.

A pure function of the world (seed and simulated now), like everything the mock serves. Each sent
campaign gets a spend row for its email send, and about a third a second one for the ads that
promoted it. The sheet carries the mess of a sheet people type into, always (it is not a defect
rate: this is how such sheets look):

* a merged title row above the header (only its first cell has a value);
* amounts typed as ``$1,200.50``, ``1200.50 USD``, ``1,200`` with ``USD`` in the currency column,
  ``1.200,50`` with ``EUR``, ``€300``, ``£450.00``, ``450 GBP``; the currency column is often blank;
* campaign names as a person types them: ``newsletter #12``, ``Newsletter  #12 ``,
  ``Newsletter 12``;
* blank rows; the header typed again when the second quarter began, with ``Amount`` renamed
  ``Spend (net)``; one row pasted twice; one campaign name with a typo; amounts not yet known
  (``TBD``, ``see invoice``).

The clock edits and appends: a campaign's rows appear once it is sent, with an estimate (a round
number, note ``estimate``) that is replaced by the invoiced amount 14 days after the send.

``spend_truth`` says what a correct pipeline makes of it: spend per campaign in US dollars for
the rows that parse and match, and the reason for every row that does not.
"""

import time
from dataclasses import dataclass
from typing import Any

from testbench.mock_apis.model import Campaign
from testbench.mock_apis.rng import seeded_random
from testbench.mock_apis.timeline import DAY
from testbench.mock_apis.world import World

SHEETS_KIND = 14  # the key domain of the sheet's random draws (world.Kind stops at 12, dirty at 13)

SPREADSHEET_TITLE = "Marketing budget FY2026"
SPEND_TAB = "Campaign spend"
TARGETS_TAB = "Pipeline targets"
TITLE_ROW = "Marketing spend FY2026 (owner: marketing ops; amounts as invoiced)"
SPEND_HEADER = ("Campaign", "Channel", "Month", "Amount", "Currency", "Owner", "Notes")
# Typed again above the rows of the second quarter, with the amount column renamed.
RENAMED_HEADER = ("Campaign", "Channel", "Month", "Spend (net)", "Currency", "Owner", "Notes")
RENAMED_FROM_MONTH = "2026-04"
TARGETS_HEADER = ("Audience", "Quarter", "Target pipeline (USD)", "Owner")
TARGET_QUARTERS = ((2025, 4), (2026, 1), (2026, 2), (2026, 3))

# US dollars per unit; the warehouse's seed exchange_rates.csv holds the same rates.
USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
OWNERS = ("Dana", "Marco", "Priya", "Sam")
CHANNELS = ("Email", "LinkedIn Ads")
INVOICE_AFTER = 14 * DAY
BLANK_EVERY = 12  # a blank row after every 12th campaign
UNPARSEABLE = ("TBD", "see invoice")

# Quarantine reasons, as the warehouse names them.
NO_CAMPAIGN = "no matching campaign"
BAD_AMOUNT = "unparseable amount"
DUPLICATE = "duplicate row"
REPEATED_HEADER = "repeated header row"


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of a tab as typed; ``reason`` is None for a row a correct pipeline keeps."""

    cells: tuple[str, ...]
    campaign_id: str | None = None
    usd: float = 0.0
    reason: str | None = None

    @property
    def is_blank(self) -> bool:
        return not any(cell.strip() for cell in self.cells)


@dataclass(frozen=True, slots=True)
class Tab:
    sheet_id: int
    title: str
    header_row: int  # 1-based row number of the header
    rows: tuple[SheetRow, ...]  # every row from row 1, title and header included

    @property
    def row_count(self) -> int:
        return len(self.rows) + 100  # a sheet has empty rows below what was typed

    column_count = 26


def tabs(world: World) -> tuple[Tab, Tab]:
    return _spend_tab(world), _targets_tab(world)


def campaign_title(world: World, campaign: Campaign) -> str:
    """The campaign's title in MailChimp (``settings.title``)."""
    return f"{world.lists[campaign.list_index].name} #{campaign.index + 1}"


def _month(ts: int) -> str:
    return time.strftime("%Y-%m", time.gmtime(ts))


def _us(cents: int) -> str:
    """``1,200`` or ``1,200.50``: US separators, cents only when there are some."""
    whole, fraction = divmod(cents, 100)
    return f"{whole:,}" + (f".{fraction:02d}" if fraction else "")


def _european(cents: int) -> str:
    """``1.200,50``, ``1.200,00`` or ``300``: a thousands dot always comes with decimals."""
    whole, fraction = divmod(cents, 100)
    if whole < 1000 and not fraction:
        return str(whole)
    return f"{whole:,}".replace(",", ".") + f",{fraction:02d}"


def _typed_amount(currency: str, cents: int, style: int) -> tuple[str, str]:
    """(amount cell, currency cell) as a person types them."""
    if currency == "USD":
        return [
            (f"${_us(cents)}", ""),
            (f"{cents / 100:.2f} USD", ""),
            (_us(cents), "USD"),
        ][style % 3]
    if currency == "EUR":
        return [(_european(cents), "EUR"), (f"€{_european(cents)}", "")][style % 2]
    return [(f"£{cents / 100:,.2f}", ""), (f"{cents / 100:.2f} GBP", "")][style % 2]


def _typed_name(title: str, style: int) -> str:
    return [
        title,
        title,
        title.lower(),
        title.replace(" #", "  #") + " ",
        title.replace("#", ""),
    ][style % 5]


def _typo(title: str) -> str:
    """The title with one letter of its first word dropped (``Newsleter #12``)."""
    first, _, rest = title.partition(" ")
    cut = min(4, len(first) - 1)
    return f"{first[:cut]}{first[cut + 1 :]} {rest}"


def _mess_campaigns(seed: int) -> dict[str, int]:
    """Which campaign (by index) carries each one-off mess: early campaigns, so every world has
    them, chosen by the seed, never two on the same campaign."""
    rng = seeded_random(seed, SHEETS_KIND, 0)
    typo, duplicate, tbd, see_invoice = rng.sample(range(2, 20), 4)
    return {"typo": typo, "duplicate": duplicate, "TBD": tbd, "see invoice": see_invoice}


def _spend_tab(world: World) -> Tab:
    mess = _mess_campaigns(world.seed)
    rows: list[SheetRow] = [SheetRow((TITLE_ROW,)), SheetRow(SPEND_HEADER)]
    renamed = False
    for campaign in world.campaigns:
        if not campaign.is_sent:
            continue
        month = _month(campaign.send_ts)
        if not renamed and month >= RENAMED_FROM_MONTH:
            rows += [SheetRow(("",)), SheetRow(RENAMED_HEADER, reason=REPEATED_HEADER)]
            renamed = True
        title = campaign_title(world, campaign)
        rng = seeded_random(world.seed, SHEETS_KIND, 1, campaign.index)
        channels = CHANNELS if rng.random() < 1 / 3 else CHANNELS[:1]
        invoiced = world.now_ts >= campaign.send_ts + INVOICE_AFTER
        for channel in channels:
            low, high = (150_00, 2_500_00) if channel == "Email" else (300_00, 5_000_00)
            cents = rng.randint(low, high)
            if not invoiced:  # an estimate: a round hundred
                cents = max(100_00, round(cents, -4))
            currency = rng.choices(("USD", "EUR", "GBP"), (0.7, 0.2, 0.1))[0]
            amount, currency_cell = _typed_amount(currency, cents, rng.randrange(6))
            name = _typed_name(title, rng.randrange(5))
            notes = "invoiced" if invoiced else "estimate"
            reason = None
            if channel == "Email" and campaign.index == mess["typo"]:
                name, reason = _typo(title), NO_CAMPAIGN
            for text in UNPARSEABLE:
                if channel == "Email" and campaign.index == mess[text]:
                    amount, currency_cell, notes, reason = (
                        text,
                        "",
                        "waiting for invoice",
                        BAD_AMOUNT,
                    )
            cells = (name, channel, month, amount, currency_cell, rng.choice(OWNERS), notes)
            usd = round(cents * USD_PER_UNIT[currency] / 100, 2)
            row = SheetRow(cells, None if reason else campaign.id, 0.0 if reason else usd, reason)
            rows.append(row)
            if channel == "Email" and campaign.index == mess["duplicate"]:
                rows.append(SheetRow(cells, reason=DUPLICATE))  # pasted twice
        if (campaign.index + 1) % BLANK_EVERY == 0:
            rows.append(SheetRow(("", "", "")))
    return Tab(0, SPEND_TAB, 2, tuple(rows))


def _targets_tab(world: World) -> Tab:
    rows = [SheetRow(TARGETS_HEADER)]
    for audience in world.lists:
        for year, quarter in TARGET_QUARTERS:
            rng = seeded_random(world.seed, SHEETS_KIND, 2, audience.index, year * 10 + quarter)
            target = rng.randrange(20, 120) * 1000_00
            typed = f"${_us(target)}" if rng.random() < 0.5 else str(target // 100)
            rows.append(SheetRow((audience.name, f"Q{quarter} {year}", typed, rng.choice(OWNERS))))
    return Tab(1, TARGETS_TAB, 1, tuple(rows))


def spend_truth(world: World, campaign_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What a correct pipeline finds in the sheet: per campaign the spend (US dollars) of the rows
    that parse and match, with return on spend = attributable won revenue (``campaign_rows``, the
    truth's campaigns) / spend; every row it must quarantine, with the reason (blank rows and the
    title row are not data)."""
    spend, targets = tabs(world)
    per_campaign: dict[str, float] = {}
    quarantined = []
    data_rows = 0
    for number, row in enumerate(spend.rows, start=1):
        if number <= spend.header_row or row.is_blank:
            continue
        data_rows += 1
        if row.reason:
            quarantined.append({"row_number": number, "reason": row.reason})
        elif row.campaign_id:
            per_campaign[row.campaign_id] = per_campaign.get(row.campaign_id, 0.0) + row.usd
    reasons: dict[str, int] = {}
    for row in quarantined:
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    return {
        "tabs": {
            SPEND_TAB: {"data_rows": data_rows, "blank_rows": _blank_rows(spend)},
            TARGETS_TAB: {"data_rows": len(targets.rows) - 1, "blank_rows": 0},
        },
        "campaigns": [
            {
                "campaign_id": row["campaign_id"],
                "spend_usd": round(per_campaign[row["campaign_id"]], 2),
                "won_revenue": row["won_revenue"],
                "return_on_spend": round(row["won_revenue"] / per_campaign[row["campaign_id"]], 6),
            }
            for row in campaign_rows
            if row["campaign_id"] in per_campaign
        ],
        "quarantined": quarantined,
        "quarantine_reasons": reasons,
        "usd_per_unit": USD_PER_UNIT,
    }


def _blank_rows(tab: Tab) -> int:
    last = max(i for i, row in enumerate(tab.rows) if not row.is_blank)
    return sum(1 for row in tab.rows[: last + 1] if row.is_blank)
