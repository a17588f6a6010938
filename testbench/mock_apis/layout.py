"""Index arithmetic: which person sits behind the n-th member, contact or recipient.

Nothing is stored per person, so every "the n-th record of X" must be computable in O(1):
- Systems: within each block of 20 person indices, 5 people are in MailChimp only, 12 in both
  systems and 3 in HubSpot only (60 % overlap). MailChimp member j and HubSpot contact h map to
  person indices directly.
- Audiences: MailChimp member j belongs to list ``j % 3`` at offset ``j // 3``.
- Statuses: within each list, the final statuses repeat over blocks of 25 offsets (22 subscribed,
  2 unsubscribed, 1 cleaned; the order is shuffled per list and seed), so "the n-th subscribed
  member" is arithmetic too. Members who end unsubscribed or cleaned are subscribed for their first
  few days (``world.STATUS_CHANGE_MAX``): only those recent joiners need a look one by one.
"""

from collections.abc import Collection

from testbench.mock_apis.model import CLEANED, SUBSCRIBED, UNSUBSCRIBED
from testbench.mock_apis.rng import seeded_random

PEOPLE_BLOCK = 20
MAILCHIMP_ONLY = 5  # block positions 0..4
BOTH_SYSTEMS = 12  # block positions 5..16
MAILCHIMP_PER_BLOCK = MAILCHIMP_ONLY + BOTH_SYSTEMS  # positions 0..16
HUBSPOT_PER_BLOCK = PEOPLE_BLOCK - MAILCHIMP_ONLY  # positions 5..19

LIST_COUNT = 3


def in_mailchimp(person: int) -> bool:
    return person % PEOPLE_BLOCK < MAILCHIMP_PER_BLOCK


def in_hubspot(person: int) -> bool:
    return person % PEOPLE_BLOCK >= MAILCHIMP_ONLY


def member_to_person(member: int) -> int:
    block, position = divmod(member, MAILCHIMP_PER_BLOCK)
    return block * PEOPLE_BLOCK + position


def person_to_member(person: int) -> int:
    block, position = divmod(person, PEOPLE_BLOCK)
    return block * MAILCHIMP_PER_BLOCK + position


def contact_to_person(contact: int) -> int:
    block, position = divmod(contact, HUBSPOT_PER_BLOCK)
    return block * PEOPLE_BLOCK + MAILCHIMP_ONLY + position


def person_to_contact(person: int) -> int:
    block, position = divmod(person, PEOPLE_BLOCK)
    return block * HUBSPOT_PER_BLOCK + position - MAILCHIMP_ONLY


def mailchimp_count(people: int) -> int:
    """How many of the first ``people`` persons are in MailChimp."""
    blocks, rest = divmod(people, PEOPLE_BLOCK)
    return blocks * MAILCHIMP_PER_BLOCK + min(rest, MAILCHIMP_PER_BLOCK)


def hubspot_count(people: int) -> int:
    blocks, rest = divmod(people, PEOPLE_BLOCK)
    return blocks * HUBSPOT_PER_BLOCK + max(0, rest - MAILCHIMP_ONLY)


def list_size(list_index: int, members: int) -> int:
    """How many of the first ``members`` MailChimp members belong to list ``list_index``."""
    return max(0, (members - list_index + LIST_COUNT - 1) // LIST_COUNT)


class StatusPattern:
    """The member statuses of one list: a shuffled block of 25 that repeats along the offsets."""

    BLOCK = 25
    _COUNTS = ((SUBSCRIBED, 22), (UNSUBSCRIBED, 2), (CLEANED, 1))

    def __init__(self, *key: int) -> None:
        statuses = [status for status, count in self._COUNTS for _ in range(count)]
        seeded_random(*key).shuffle(statuses)
        self.statuses = tuple(statuses)
        self._positions: dict[frozenset[str], tuple[int, ...]] = {}

    def status(self, offset: int) -> str:
        return self.statuses[offset % self.BLOCK]

    def positions(self, statuses: Collection[str]) -> tuple[int, ...]:
        """Positions within a block whose status is one of ``statuses`` (cached per set)."""
        wanted = frozenset(statuses)
        if wanted not in self._positions:
            self._positions[wanted] = tuple(
                p for p, status in enumerate(self.statuses) if status in wanted
            )
        return self._positions[wanted]

    def count(self, statuses: Collection[str], end: int) -> int:
        """How many offsets in [0, end) have one of ``statuses``."""
        positions = self.positions(statuses)
        blocks, rest = divmod(end, self.BLOCK)
        return blocks * len(positions) + sum(1 for p in positions if p < rest)

    def offsets(self, statuses: Collection[str], start: int, end: int) -> list[int]:
        """The offsets in [start, end) whose status is one of ``statuses``, in order."""
        first, last = self.count(statuses, start), self.count(statuses, end)
        return [self.nth(statuses, n) for n in range(first, last)]

    def nth(self, statuses: Collection[str], n: int) -> int:
        """The offset of the n-th (from 0) member whose status is one of ``statuses``."""
        positions = self.positions(statuses)
        block, rank = divmod(n, len(positions))
        return block * self.BLOCK + positions[rank]


class Selection:
    """The list offsets a members query selects, in the order they are served.

    Three runs: ``changed`` (members who joined before the ``since`` filter but changed status
    since, found one by one in a bounded window), ``settled`` (offsets ``[start, end)`` whose status
    can no longer change: pattern arithmetic, O(1) per member), and ``recent`` (the last joiners,
    whose status may still change: found one by one).
    """

    def __init__(
        self,
        pattern: StatusPattern,
        statuses: Collection[str],
        changed: list[int],
        settled: tuple[int, int],
        recent: list[int],
    ) -> None:
        self._pattern, self._statuses = pattern, statuses
        self._changed, self._recent = changed, recent
        self._settled_before = pattern.count(statuses, settled[0])
        self._settled = pattern.count(statuses, settled[1]) - self._settled_before

    def __len__(self) -> int:
        return len(self._changed) + self._settled + len(self._recent)

    def offset(self, n: int) -> int:
        """The list offset of the n-th selected member (from 0)."""
        if n < len(self._changed):
            return self._changed[n]
        n -= len(self._changed)
        if n < self._settled:
            return self._pattern.nth(self._statuses, self._settled_before + n)
        return self._recent[n - self._settled]
