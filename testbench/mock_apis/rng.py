"""Cheap deterministic randomness keyed by integers.

Every record of the world is computed on demand from ``(seed, kind, index, ...)``, so each record
needs its own random source, and creating one must cost almost nothing: seeding ``random.Random``
takes several microseconds, and drawing field by field costs a Python call per field. Instead, a
record hashes its key once with BLAKE2b into 64 random bytes and unpacks them into named integer
fields with a ``struct.Struct`` in one C call. Rare, startup-time randomness (schedules, shuffles)
simply uses ``random.Random`` seeded from a key. Never key on ``hash(str)``: Python salts it per
process.
"""

import random
import struct
from collections.abc import Sequence
from hashlib import blake2b
from typing import TypeVar

T = TypeVar("T")

MASK64 = (1 << 64) - 1
FIELD16 = 1 << 16  # a 16-bit field is uniform in [0, FIELD16)
_PACKERS = tuple(struct.Struct(f"<{count}Q") for count in range(9))


def _mix(z: int) -> int:
    """The SplitMix64 finaliser: scrambles the bits of a 64-bit integer."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def key(*parts: int) -> int:
    """A 64-bit hash of a few integers: for a single random number, cheaper than a digest."""
    h = 0xCBF29CE484222325
    for part in parts:  # FNV-1a folds the parts; the SplitMix64 finaliser spreads their bits
        h = ((h ^ (part & MASK64)) * 0x100000001B3) & MASK64
    return _mix(h)


def digest(*parts: int) -> bytes:
    """64 random bytes derived from ``parts`` (at most 8 non-negative 64-bit integers)."""
    return blake2b(_PACKERS[len(parts)].pack(*parts), digest_size=64).digest()


def seeded_random(*parts: int) -> random.Random:
    """A full ``random.Random`` for startup-time work, seeded from ``parts``."""
    return random.Random(key(*parts))


def chance(field: int, probability: float) -> bool:
    """True with the given probability, for a uniform 16-bit ``field``."""
    return field < probability * FIELD16


def pick(items: Sequence[T], field: int) -> T:
    """An item chosen by a uniform random ``field`` (the modulo bias is negligible here)."""
    return items[field % len(items)]


def spread(field: int, low: int, high: int) -> int:
    """An integer in [low, high], both ends included, chosen by a uniform random ``field``."""
    return low + field % (high - low + 1)


def hex_id(length: int, *parts: int) -> str:
    """A lowercase hex identifier of ``length`` characters (at most 16) derived from ``parts``."""
    return f"{key(*parts):016x}"[:length]
