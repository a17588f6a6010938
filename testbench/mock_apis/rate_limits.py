"""HubSpot's request budgets: a rolling 10-second burst per token, and about 5 searches a second.

Each budget is a rolling window of the times of the requests it let through. The server runs one
event loop, and budgets are only touched from it, so they need no lock.
"""

import math
import time
from collections import deque
from dataclasses import dataclass, field

DEFAULT_HUBSPOT_BURST = 100  # per 10 s, HubSpot's lowest tier (190 on higher ones)
DEFAULT_HUBSPOT_SEARCH_RATE = 5  # per second
TEN_SECONDS = 10.0
DAILY_LIMIT = 500_000


@dataclass
class RollingWindow:
    """At most ``limit`` requests in any ``seconds``-long window."""

    limit: int
    seconds: float
    _times: deque[float] = field(default_factory=deque)

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.seconds:
            self._times.popleft()

    def acquire(self, now: float) -> bool:
        """Count one request now if the budget allows it; False (and not counted) if not."""
        self._expire(now)
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def remaining(self, now: float) -> int:
        self._expire(now)
        return max(0, self.limit - len(self._times))

    def retry_after(self, now: float) -> int:
        """Whole seconds until the oldest counted request leaves the window."""
        self._expire(now)
        return max(1, math.ceil(self._times[0] + self.seconds - now)) if self._times else 1


@dataclass
class TokenBudget:
    """Every budget of one HubSpot token."""

    burst: RollingWindow
    secondly: RollingWindow
    search: RollingWindow
    daily_used: int = 0


@dataclass
class HubSpotLimits:
    burst: int = DEFAULT_HUBSPOT_BURST
    search_rate: int = DEFAULT_HUBSPOT_SEARCH_RATE
    _budgets: dict[str, TokenBudget] = field(default_factory=dict)

    def budget(self, token: str) -> TokenBudget:
        if token not in self._budgets:
            self._budgets[token] = TokenBudget(
                RollingWindow(self.burst, TEN_SECONDS),
                RollingWindow(max(1, self.burst // 10), 1.0),
                RollingWindow(self.search_rate, 1.0),
            )
        return self._budgets[token]

    def check(self, token: str, is_search: bool) -> tuple[str | None, dict[str, str]]:
        """Count a request: the policy it broke (None if allowed) and the headers to send."""
        now = time.monotonic()
        budget = self.budget(token)
        broken = None
        if is_search and not budget.search.acquire(now):
            broken = "SECONDLY"
        elif not budget.burst.acquire(now):
            broken = "TEN_SECONDLY_ROLLING"
        else:
            budget.secondly.acquire(now)  # reported, not enforced (HubSpot's headers carry it)
            budget.daily_used += 1
        headers = {
            "X-HubSpot-RateLimit-Daily": str(DAILY_LIMIT),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, DAILY_LIMIT - budget.daily_used)),
            "X-HubSpot-RateLimit-Secondly": str(budget.secondly.limit),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(budget.secondly.remaining(now)),
            "X-HubSpot-RateLimit-Max": str(budget.burst.limit),
            "X-HubSpot-RateLimit-Remaining": str(budget.burst.remaining(now)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(TEN_SECONDS * 1000)),
        }
        if broken == "TEN_SECONDLY_ROLLING":  # HubSpot sends Retry-After only sometimes
            headers["Retry-After"] = str(budget.burst.retry_after(now))
        return broken, headers
