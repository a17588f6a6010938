"""The synthetic world: a pure function of ``(seed, scale, simulated now)``.

Nothing per person is stored. Person ``i`` is created at a time that grows linearly with ``i`` over
the 180 days before the anchor, so the people who exist at any time are a prefix ``0..n-1`` of the
index space; every record (member, contact, recipient, event, deal) is computed from its index when
asked for. Memory is constant in ``scale`` and each record costs O(1) work (a deal costs one pass
over the few campaigns its person received).

``days_advanced`` moves the simulated now past the anchor: people keep arriving at the same rate,
more campaigns go out, more activity and deals appear. Anything timestamped at or after now is
invisible.
"""

import struct
from collections.abc import Iterator
from enum import IntEnum
from functools import lru_cache

from testbench.mock_apis import dirty, layout
from testbench.mock_apis.model import (
    CLEANED,
    CLOSED_LOST,
    CLOSED_WON,
    OPEN_DEAL_STAGES,
    SUBSCRIBED,
    UNSUBSCRIBED,
    AudienceList,
    Campaign,
    CampaignReport,
    Company,
    Deal,
    Event,
    Person,
)
from testbench.mock_apis.pools import INDUSTRIES, build_pools, slug
from testbench.mock_apis.rng import (
    FIELD16,
    chance,
    digest,
    hex_id,
    key,
    pick,
    seeded_random,
    spread,
)
from testbench.mock_apis.timeline import ANCHOR_TS, DAY, HISTORY_SECONDS, HOUR, START_TS

# Email behaviour, tuned so that email-activity events come to about 10 per member at the defaults.
CAMPAIGN_EVERY = 3 * DAY  # campaigns rotate over the 3 lists, so each list gets one every 9 days
BOUNCE_RATE = 0.02
HARD_BOUNCE_SHARE = 0.4
CLICK_GIVEN_OPEN = 0.2
MAX_OPENS = 4
MAX_CLICKS = 2
# Every event of a campaign falls within this span after its send (opens by 36 h + 3 x 2 days).
ACTIVITY_SPAN = 8 * DAY

# The business story: people who click are the ones who buy.
ATTRIBUTED_DEAL_RATE = 0.25  # of people in both systems who clicked at least once
LATE_DEAL_SHARE = 0.15  # of those deals: created 31-45 days after the click, outside 30 days
BACKGROUND_DEAL_RATE = 0.35  # of HubSpot-only people
PRODUCTS = ("Starter plan", "Growth plan", "Enterprise plan", "Onboarding package", "Support")

PEOPLE_PER_COMPANY = 20
LIST_NAMES = ("Newsletter", "Product updates", "Events and webinars")

# HubSpot ids are numeric strings; distinct ranges per object type make a wrong join fail loudly.
CONTACT_ID_BASE = 100_000_001
COMPANY_ID_BASE = 200_000_001
DEAL_ID_BASE = 300_000_001

# The random fields of each kind of record, unpacked from one 64-byte digest (H: 16 bits,
# I: 32 bits, Q: 64 bits). The field names are spelled out where each is unpacked.
PERSON_FIELDS = struct.Struct("<12HQ")
ACTIVITY_FIELDS = struct.Struct("<8H7I")
DEAL_FIELDS = struct.Struct("<8H3I")
COMPANY_FIELDS = struct.Struct("<4H")

_SUBSCRIBED = (SUBSCRIBED,)
MEMBER_STATUSES = (SUBSCRIBED, UNSUBSCRIBED, CLEANED)
# Members who end unsubscribed or cleaned join subscribed and leave this long after joining: long
# enough to receive a campaign or two, short enough that only recent joiners can still change.
STATUS_CHANGE_MIN = DAY
STATUS_CHANGE_MAX = 10 * DAY
_LEAVING = (UNSUBSCRIBED, CLEANED)


class Kind(IntEnum):
    """Key domains of the random streams, so that no two kinds of record share one."""

    PERSON = 1
    CREATED_JITTER = 2
    LIST = 3
    STATUS = 4
    CAMPAIGN = 5
    ACTIVITY = 6
    PROPENSITY = 7
    DEAL = 8
    COMPANY = 9
    MEMBER = 10  # MailChimp-only attributes of a member, drawn by the renderer
    CONTACT = 11  # HubSpot-only attributes of a contact, drawn by the renderer
    STATUS_CHANGE = 12  # when a member who ends unsubscribed or cleaned left
    # 13 is taken by dirty.DIRTY_KIND (the defect rolls), kept there to avoid an import cycle.


class World:
    """Every record of the world, computed on demand; ``scale`` people exist at the default now."""

    def __init__(
        self, seed: int = 42, scale: int = 2000, days_advanced: int = 0, dirty_rate: float = 0.0
    ) -> None:
        if not 0 <= seed < 2**63:
            raise ValueError("seed must be a non-negative 63-bit integer")
        if scale < 1:
            raise ValueError("scale must be at least 1")
        if days_advanced < 0:
            raise ValueError("days_advanced cannot be negative")
        if not 0 <= dirty_rate <= 1:
            raise ValueError("dirty_rate must be between 0 and 1")
        self.seed = seed
        self.scale = scale
        self.days_advanced = days_advanced
        self.now_ts = ANCHOR_TS + days_advanced * DAY
        self.pools = build_pools(seed)
        # People are created one per slot of HISTORY_SECONDS/scale, jittered inside their slot.
        self._slot_gap = HISTORY_SECONDS // scale
        self.people_count = self.people_count_at(self.now_ts)
        self.member_count = layout.mailchimp_count(self.people_count)
        self.contact_count = layout.hubspot_count(self.people_count)
        self.company_count = -(-self.people_count // PEOPLE_PER_COMPANY)
        self.dirty_rate = dirty_rate
        # Duplicate contact records follow the real ones: contact j * stride + stride - 1 has one.
        self._duplicate_stride = dirty.duplicate_stride(dirty_rate)
        stride = self._duplicate_stride
        self.duplicate_count = self.contact_count // stride if stride else 0
        self.contact_records = self.contact_count + self.duplicate_count
        self._patterns = tuple(
            layout.StatusPattern(seed, Kind.STATUS, index) for index in range(layout.LIST_COUNT)
        )
        self.lists = tuple(self._make_list(index) for index in range(layout.LIST_COUNT))
        # Per campaign, a window's worth of offsets: few campaigns are paged at once.
        self._leavers = lru_cache(maxsize=8)(self._find_leavers)
        self.campaigns = self._make_campaigns()
        self._sent_by_list = tuple(
            tuple(c for c in self.campaigns if c.is_sent and c.list_index == index)
            for index in range(layout.LIST_COUNT)
        )
        self._reports: dict[int, CampaignReport] = {}
        # Bounded caches: pages and truth revisit the same people; memory stays capped.
        self.person = lru_cache(maxsize=16_384)(self._make_person)
        self.deal_of = lru_cache(maxsize=16_384)(self._make_deal)

    def advanced(self, days: int) -> "World":
        """The same world ``days`` later. Reports of campaigns whose activity was over by this
        world's now cannot change: the later world keeps them instead of rescanning."""
        later = World(self.seed, self.scale, self.days_advanced + days, self.dirty_rate)
        later._reports.update(
            (index, report)
            for index, report in self._reports.items()
            if self.campaigns[index].send_ts + ACTIVITY_SPAN <= self.now_ts
        )
        return later

    def defect(self, stream: dirty.Stream, record: int) -> str | None:
        """The defect a record carries as served (see ``dirty``), or None."""
        if not self.dirty_rate:
            return None
        return dirty.defect(self.dirty_rate, self.seed, stream, record)

    def duplicated_contact(self, duplicate: int) -> int:
        """The contact index whose person the ``duplicate``-th duplicate record repeats."""
        stride = self._duplicate_stride or 1
        return duplicate * stride + stride - 1

    # -- time and people ------------------------------------------------------------------------

    def person_created_ts(self, person: int) -> int:
        slot_start = START_TS + person * HISTORY_SECONDS // self.scale
        if self._slot_gap == 0:
            return slot_start
        return slot_start + key(self.seed, Kind.CREATED_JITTER, person) % self._slot_gap

    def people_count_at(self, ts: int) -> int:
        """How many people were created strictly before ``ts`` (always a prefix of the indices)."""
        elapsed = ts - START_TS
        if elapsed <= 0:
            return 0
        count = -(-elapsed * self.scale // HISTORY_SECONDS)  # slots starting before ts
        # Jitter is smaller than a slot, so only the last of them can fall at or after ts.
        if count and self.person_created_ts(count - 1) >= ts:
            count -= 1
        return count

    def open_propensity(self, person: int) -> float:
        """How likely this person opens any one email: 0.1 to 0.75, 0.425 on average."""
        return 0.1 + 0.65 * (key(self.seed, Kind.PROPENSITY, person) >> 11) / (1 << 53)

    def _make_person(self, index: int) -> Person:
        pools = self.pools
        (
            first_roll, first_pick, last_roll, last_pick, domain_roll, domain_pick,
            place_pick, job_pick, area_pick, line_pick, ip_pick, typing_roll, company_pick,
        ) = PERSON_FIELDS.unpack_from(digest(self.seed, Kind.PERSON, index))  # fmt: skip
        first = "" if chance(first_roll, 0.06) else pick(pools.first_names, first_pick)
        last = "" if chance(last_roll, 0.04) else pick(pools.last_names, last_pick)
        company = company_pick % (index // PEOPLE_PER_COMPANY + 1)  # one that already exists
        if chance(domain_roll, 0.55):
            domain = self.company_domain(company)
        else:
            domain = pick(pools.free_email_domains, domain_pick)
        local_parts = []
        if first:
            local_parts.append(pick(pools.first_name_slugs, first_pick))
        if last:
            local_parts.append(pick(pools.last_name_slugs, last_pick))
        email = f"{'.'.join(local_parts) or 'contact'}{index}@{domain}"  # the index keeps it unique
        return Person(
            index=index,
            created_ts=self.person_created_ts(index),
            first_name=first,
            last_name=last,
            email=email,
            hubspot_email=_as_typed_in_crm(email, typing_roll),
            company=company,
            place=pick(pools.places, place_pick),
            job_title=pick(pools.job_titles, job_pick),
            # 555 numbers are reserved for fiction: no real person gets called.
            phone=f"+1 {spread(area_pick, 201, 989)}-555-{line_pick % 10_000:04d}",
            ip=pick(pools.ip_addresses, ip_pick),
            in_mailchimp=layout.in_mailchimp(index),
            in_hubspot=layout.in_hubspot(index),
        )

    # -- MailChimp audiences and members -----------------------------------------------------------

    def _make_list(self, index: int) -> AudienceList:
        rng = seeded_random(self.seed, Kind.LIST, index)
        company = self.pools.company_names[0]
        return AudienceList(
            index=index,
            id=hex_id(10, self.seed, Kind.LIST, index),
            web_id=rng.randint(100_000, 999_999),
            name=f"{company} {LIST_NAMES[index % len(LIST_NAMES)]}",
            created_ts=START_TS - (index + 1) * 30 * DAY - rng.randrange(DAY),
            from_name=company,
            from_email=f"news@{slug(company)}.com",
        )

    def list_by_id(self, list_id: str) -> AudienceList | None:
        return next((item for item in self.lists if item.id == list_id), None)

    def list_size(self, list_index: int) -> int:
        """Members of the list now, all statuses."""
        return layout.list_size(list_index, self.member_count)

    def member_person(self, list_index: int, offset: int) -> int:
        return layout.member_to_person(offset * layout.LIST_COUNT + list_index)

    def leave_ts(self, list_index: int, offset: int) -> int:
        """When a member whose final status is unsubscribed or cleaned leaves."""
        person = self.member_person(list_index, offset)
        delay = spread(
            key(self.seed, Kind.STATUS_CHANGE, person), STATUS_CHANGE_MIN, STATUS_CHANGE_MAX
        )
        return self.person_created_ts(person) + delay

    def status_change_ts(self, list_index: int, offset: int) -> int | None:
        """When the member leaves, or None for one who stays subscribed."""
        if self._patterns[list_index].status(offset) == SUBSCRIBED:
            return None
        return self.leave_ts(list_index, offset)

    def member_status(self, list_index: int, offset: int) -> str:
        """The member's status now."""
        change = self.status_change_ts(list_index, offset)
        if change is None or change < self.now_ts:
            return self._patterns[list_index].status(offset)
        return SUBSCRIBED

    def member_last_changed(self, list_index: int, offset: int) -> int:
        """MailChimp's ``last_changed``: when the member joined, or left if they have by now."""
        change = self.status_change_ts(list_index, offset)
        if change is not None and change < self.now_ts:
            return change
        return self.person_created_ts(self.member_person(list_index, offset))

    def select_members(
        self, list_index: int, statuses: tuple[str, ...], since: int | None = None
    ) -> layout.Selection:
        """The members with one of ``statuses`` now and, if ``since`` is given, a ``last_changed``
        at or after it: those who changed since then first, then by join order."""
        size = self.list_size(list_index)
        start = 0 if since is None else self.first_member_since(list_index, since)
        # Older members are settled: their change, if any, happened before now.
        unsettled = max(start, self.first_member_since(list_index, self.now_ts - STATUS_CHANGE_MAX))
        changed: list[int] = []
        if since is not None and set(statuses) & set(_LEAVING):
            window = self.first_member_since(list_index, since - STATUS_CHANGE_MAX)
            changed = [
                offset
                for offset in self._patterns[list_index].offsets(statuses, window, start)
                if since <= self.member_last_changed(list_index, offset)
            ]
        recent = [
            offset
            for offset in range(unsettled, size)
            if self.member_status(list_index, offset) in statuses
        ]
        return layout.Selection(
            self._patterns[list_index], statuses, changed, (start, unsettled), recent
        )

    def count_members(self, list_index: int, statuses: tuple[str, ...]) -> int:
        """Members of the list now whose status is one of ``statuses``."""
        return len(self.select_members(list_index, statuses))

    def first_member_since(self, list_index: int, ts: int) -> int:
        """The first offset whose member joined at or after ``ts`` (they join in offset order)."""
        low, high = 0, self.list_size(list_index)
        while low < high:
            middle = (low + high) // 2
            if self.person_created_ts(self.member_person(list_index, middle)) < ts:
                low = middle + 1
            else:
                high = middle
        return low

    # -- campaigns and email activity ------------------------------------------------------------

    def _make_campaigns(self) -> tuple[Campaign, ...]:
        """Every campaign created before now: one scheduled every 3 days, drafted a week ahead."""
        campaigns = []
        for index in range(self.now_ts // CAMPAIGN_EVERY):  # an upper bound never reached
            rng = seeded_random(self.seed, Kind.CAMPAIGN, index)
            send_ts = START_TS + (index + 1) * CAMPAIGN_EVERY + 9 * HOUR + rng.randrange(3 * HOUR)
            create_ts = send_ts - 7 * DAY - rng.randrange(DAY)
            if create_ts >= self.now_ts:
                break
            list_index = index % layout.LIST_COUNT
            is_sent = send_ts < self.now_ts
            campaigns.append(
                Campaign(
                    index=index,
                    id=hex_id(10, self.seed, Kind.CAMPAIGN, index),
                    web_id=rng.randint(1_000_000, 9_999_999),
                    list_index=list_index,
                    create_ts=create_ts,
                    send_ts=send_ts,
                    is_sent=is_sent,
                    subject_line=rng.choice(self.pools.subject_lines),
                    emails_sent=(
                        self.recipients_at(list_index, send_ts)
                        + len(self._leavers(list_index, send_ts))
                        if is_sent
                        else 0
                    ),
                )
            )
        return tuple(campaigns)

    def recipients_at(self, list_index: int, ts: int) -> int:
        """How many members who stay subscribed had joined the list before ``ts``."""
        members = layout.mailchimp_count(self.people_count_at(ts))
        return self._patterns[list_index].count(_SUBSCRIBED, layout.list_size(list_index, members))

    def campaign_by_id(self, campaign_id: str) -> Campaign | None:
        return next((c for c in self.campaigns if c.id == campaign_id), None)

    def _find_leavers(self, list_index: int, ts: int) -> list[int]:
        """Offsets of members subscribed at ``ts`` who have left or will leave (recent joiners)."""
        window = self.first_member_since(list_index, ts - STATUS_CHANGE_MAX)
        joined = self.first_member_since(list_index, ts)
        return [
            offset
            for offset in self._patterns[list_index].offsets(_LEAVING, window, joined)
            if self.leave_ts(list_index, offset) >= ts
        ]

    def recipient(self, campaign: Campaign, n: int) -> int:
        """The person index of the n-th recipient of a sent campaign: those who stay subscribed
        in join order, then those who were still subscribed when it went out but left later."""
        staying = self.recipients_at(campaign.list_index, campaign.send_ts)
        if n < staying:
            offset = self._patterns[campaign.list_index].nth(_SUBSCRIBED, n)
        else:
            offset = self._leavers(campaign.list_index, campaign.send_ts)[n - staying]
        return self.member_person(campaign.list_index, offset)

    def activity(self, campaign: Campaign, person: int) -> list[Event]:
        """One recipient's events for one campaign, in time order, only those before now.

        A bounced email has no opens or clicks; clicks only follow an open. Successive opens (and
        successive clicks) are strictly later than the previous one, so (action, timestamp) is
        unique.
        """
        (
            bounce_roll, hard_roll, open_roll, opens_pick, click_roll, clicks_pick,
            url_pick_1, url_pick_2, bounce_delay, first_open_delay,
            open_gap_1, open_gap_2, open_gap_3, click_gap_1, click_gap_2,
        ) = ACTIVITY_FIELDS.unpack_from(
            digest(self.seed, Kind.ACTIVITY, campaign.index, person)
        )  # fmt: skip
        send = campaign.send_ts
        events: list[Event] = []
        if chance(bounce_roll, BOUNCE_RATE):
            bounce_type = "hard" if chance(hard_roll, HARD_BOUNCE_SHARE) else "soft"
            events.append(Event("bounce", send + spread(bounce_delay, 60, HOUR), bounce_type, ""))
        elif open_roll < self.open_propensity(person) * FIELD16:
            at = first_open = send + spread(first_open_delay, 10 * 60, 36 * HOUR)
            events.append(Event("open", at, "", ""))
            for gap in (open_gap_1, open_gap_2, open_gap_3)[: opens_pick % MAX_OPENS]:
                at += spread(gap, 5 * 60, 2 * DAY)
                events.append(Event("open", at, "", ""))
            if chance(click_roll, CLICK_GIVEN_OPEN):
                at = first_open
                clicks = ((click_gap_1, url_pick_1), (click_gap_2, url_pick_2))
                for gap, url_pick in clicks[: 1 + clicks_pick % MAX_CLICKS]:
                    at += spread(gap, 5, 30 * 60)
                    events.append(Event("click", at, "", pick(self.pools.click_urls, url_pick)))
                events.sort(key=lambda event: event.ts)
        return [event for event in events if event.ts < self.now_ts]

    def recipients(self, campaign: Campaign) -> Iterator[int]:
        return (self.recipient(campaign, n) for n in range(campaign.emails_sent))

    def report(self, campaign: Campaign) -> CampaignReport:
        """Activity aggregates of a campaign (a pass over its recipients, cached per campaign)."""
        if campaign.index not in self._reports:
            counts = dict.fromkeys(("open", "click", "bounce"), 0)
            unique_opens = unique_clicks = hard_bounces = last_open = last_click = 0
            for person in self.recipients(campaign):
                events = self.activity(campaign, person)
                for event in events:
                    counts[event.action] += 1
                    hard_bounces += event.bounce_type == "hard"
                opens = [event.ts for event in events if event.action == "open"]
                clicks = [event.ts for event in events if event.action == "click"]
                unique_opens += bool(opens)
                unique_clicks += bool(clicks)
                last_open = max(last_open, *opens) if opens else last_open
                last_click = max(last_click, *clicks) if clicks else last_click
            self._reports[campaign.index] = CampaignReport(
                counts["open"], unique_opens, counts["click"], unique_clicks, counts["bounce"],
                hard_bounces, last_open, last_click,
            )  # fmt: skip
        return self._reports[campaign.index]

    def unsubscribes(self, campaign: Campaign) -> list[int]:
        """Offsets of the members who unsubscribed from this campaign: it was the last one they
        received before they left (before now)."""
        later = [
            c.send_ts for c in self._sent_by_list[campaign.list_index] if c.index > campaign.index
        ]
        next_send = later[0] if later else self.now_ts
        leavers = self._leavers(campaign.list_index, campaign.send_ts)
        return [
            offset
            for offset in leavers
            if self._patterns[campaign.list_index].status(offset) == UNSUBSCRIBED
            and self.leave_ts(campaign.list_index, offset) < min(next_send, self.now_ts)
        ]

    def first_click_ts(self, person: int) -> int | None:
        """When the person first clicked any campaign (before now), or None."""
        if not layout.in_mailchimp(person):
            return None
        member = layout.person_to_member(person)
        list_index, offset = member % layout.LIST_COUNT, member // layout.LIST_COUNT
        created = self.person_created_ts(person)
        left = self.status_change_ts(list_index, offset)
        clicks = (
            event.ts
            for campaign in self._sent_by_list[list_index]
            if created < campaign.send_ts and (left is None or campaign.send_ts <= left)
            for event in self.activity(campaign, person)
            if event.action == "click"
        )
        return min(clicks, default=None)

    # -- HubSpot contacts, companies and deals ---------------------------------------------------

    def contact_person(self, contact: int) -> int:
        return layout.contact_to_person(contact)

    def contact_id(self, person: int) -> int:
        return CONTACT_ID_BASE + layout.person_to_contact(person)

    def company_name(self, company: int) -> str:
        names = self.pools.company_names
        round_, position = divmod(company, len(names))
        return names[position] if round_ == 0 else f"{names[position]} {round_ + 1}"

    def company_domain(self, company: int) -> str:
        slugs = self.pools.company_slugs
        round_, position = divmod(company, len(slugs))
        return f"{slugs[position]}.com" if round_ == 0 else f"{slugs[position]}{round_ + 1}.com"

    def company(self, index: int) -> Company:
        industry_pick, size_pick, revenue_pick, place_pick = COMPANY_FIELDS.unpack_from(
            digest(self.seed, Kind.COMPANY, index)
        )
        employees = pick((5, 12, 25, 50, 120, 250, 800, 2500), size_pick)
        return Company(
            index=index,
            created_ts=self.person_created_ts(index * PEOPLE_PER_COMPANY),
            name=self.company_name(index),
            domain=self.company_domain(index),
            industry=pick(INDUSTRIES, industry_pick),
            employees=employees,
            annual_revenue=employees * spread(revenue_pick, 60, 250) * 1000,
            place=pick(self.pools.places, place_pick),
        )

    def _make_deal(self, person: int) -> Deal | None:
        """The person's deal, if they have one that exists by now.

        People in both systems who clicked a campaign may buy 1-20 days after their first click
        (a few, later); HubSpot-only people may buy at any time after they appear.
        """
        if person >= self.people_count or not layout.in_hubspot(person):
            return None
        (
            deal_roll, late_roll, outcome_roll, stage_pick, amount_pick, product_pick, ms_pick,
            _spare, lag_pick, close_pick, background_pick,
        ) = DEAL_FIELDS.unpack_from(digest(self.seed, Kind.DEAL, person))  # fmt: skip
        if layout.in_mailchimp(person):
            if not chance(deal_roll, ATTRIBUTED_DEAL_RATE):
                return None
            first_click = self.first_click_ts(person)
            if first_click is None:
                return None
            low, high = (31, 45) if chance(late_roll, LATE_DEAL_SHARE) else (1, 20)
            created = first_click + spread(lag_pick, low * DAY, high * DAY)
        else:
            if not chance(deal_roll, BACKGROUND_DEAL_RATE):
                return None
            created = self.person_created_ts(person) + spread(background_pick, DAY, 60 * DAY)
        created_ms = created * 1000 + ms_pick % 1000
        if created_ms >= self.now_ts * 1000:
            return None
        open_stage = pick(OPEN_DEAL_STAGES, stage_pick)
        if chance(outcome_roll, 0.4):
            outcome = CLOSED_WON
        elif chance(outcome_roll, 0.65):
            outcome = CLOSED_LOST
        else:
            outcome = open_stage  # this one never closes
        return Deal(
            id=DEAL_ID_BASE + person,
            person=person,
            created_ms=created_ms,
            close_ms=created_ms + spread(close_pick, 3 * DAY, 45 * DAY) * 1000,
            outcome=outcome,
            open_stage=open_stage,
            amount_cents=spread(amount_pick, 10, 500) * 10_000,
            product=pick(PRODUCTS, product_pick),
        )

    def deals_from(self, person: int, limit: int) -> tuple[list[Deal], int | None]:
        """Up to ``limit`` deals of people from index ``person`` on, and where the next page starts.

        Deals are sparse over people, so HubSpot's opaque cursor is simply the next person index.
        """
        found: list[Deal] = []
        while person < self.people_count:
            deal = self.deal_of(person)
            if deal is not None:
                if len(found) == limit:
                    return found, person
                found.append(deal)
            person += 1
        return found, None

    def all_deals(self) -> Iterator[Deal]:
        for person in range(self.people_count):
            deal = self.deal_of(person)
            if deal is not None:
                yield deal


def _as_typed_in_crm(email: str, typing_roll: int) -> str:
    """The address as a salesperson typed it into HubSpot: 15 % differ in case or whitespace."""
    if chance(typing_roll, 0.05):
        return email.upper()
    if chance(typing_roll, 0.10):
        return email.title()
    if chance(typing_roll, 0.15):
        return pick((f" {email}", f"{email} ", f"  {email} "), typing_roll)
    return email
