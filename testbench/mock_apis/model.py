"""The record types of the world, free of any API's JSON shape.

`world.World` computes them; `mailchimp` and `hubspot` render them as each API does. Types built
once per record are NamedTuples, the cheapest immutable object Python builds (a frozen dataclass
costs several times more); the few built at startup are frozen dataclasses.
"""

from dataclasses import dataclass
from typing import NamedTuple

from testbench.mock_apis.pools import Place

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
CLEANED = "cleaned"

# HubSpot's default sales pipeline, in order; the last two are the closed stages.
OPEN_DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
CLOSED_WON = "closedwon"
CLOSED_LOST = "closedlost"
DEAL_STAGES = (*OPEN_DEAL_STAGES, CLOSED_WON, CLOSED_LOST)


class Person(NamedTuple):
    """One human being, whichever systems know them."""

    index: int
    created_ts: int
    first_name: str  # "" when the person never gave it
    last_name: str
    email: str  # canonical: lowercase, no whitespace (as MailChimp stores it)
    hubspot_email: str  # as typed into the CRM: sometimes other case or stray whitespace
    company: int
    place: Place
    job_title: str
    phone: str
    ip: str
    in_mailchimp: bool
    in_hubspot: bool


@dataclass(frozen=True, slots=True)
class AudienceList:
    index: int
    id: str
    web_id: int
    name: str
    created_ts: int
    from_name: str
    from_email: str


@dataclass(frozen=True, slots=True)
class Campaign:
    index: int
    id: str
    web_id: int
    list_index: int
    create_ts: int
    send_ts: int  # when it is (or was) scheduled to go out
    is_sent: bool  # sent before the simulated now; otherwise still a draft ("save")
    subject_line: str
    emails_sent: int  # subscribed members of its list who joined before send_ts; 0 if unsent


class Event(NamedTuple):
    """One email-activity event of one recipient of one campaign."""

    action: str  # open | click | bounce
    ts: int
    bounce_type: str  # hard | soft for a bounce, "" otherwise
    url: str  # the clicked link for a click, "" otherwise


class Company(NamedTuple):
    index: int
    created_ts: int
    name: str
    domain: str
    industry: str
    employees: int
    annual_revenue: int
    place: Place


class Deal(NamedTuple):
    """A HubSpot deal. Its stage depends on the simulated now: it starts in the first stage,
    moves to ``open_stage`` halfway, and closes (won or lost) at ``close_ms`` unless it stays open.

    Times are epoch milliseconds, as HubSpot keeps them, so that attribution windows compare
    exactly.
    """

    id: int
    person: int
    created_ms: int
    close_ms: int  # when it closes (or, for a deal that stays open, its expected close date)
    outcome: str  # closedwon | closedlost | one of OPEN_DEAL_STAGES for a deal that stays open
    open_stage: str  # the stage it sits in until it closes
    amount_cents: int
    product: str

    @property
    def progress_ms(self) -> int:
        """When the deal moves from the pipeline's first stage to ``open_stage``: halfway to its
        close date."""
        return (self.created_ms + self.close_ms) // 2

    def stage_at(self, now_ts: int) -> str:
        now_ms = now_ts * 1000
        if self.outcome in (CLOSED_WON, CLOSED_LOST) and self.close_ms < now_ms:
            return self.outcome
        return self.open_stage if self.progress_ms < now_ms else OPEN_DEAL_STAGES[0]

    def modified_ms_at(self, now_ts: int) -> int:
        """``hs_lastmodifieddate``: the last stage move before now, else the creation."""
        now_ms = now_ts * 1000
        if self.outcome in (CLOSED_WON, CLOSED_LOST) and self.close_ms < now_ms:
            return self.close_ms
        return self.progress_ms if self.progress_ms < now_ms else self.created_ms


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """Aggregates of one campaign's visible email activity."""

    opens: int
    unique_opens: int
    clicks: int
    unique_clicks: int
    bounces: int
    hard_bounces: int
    last_open_ts: int  # 0 when nobody opened
    last_click_ts: int
