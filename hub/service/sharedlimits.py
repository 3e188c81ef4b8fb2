"""Rate limits shared by the API processes of one service, in the PostgreSQL catalog.

``matterhub serve --workers N`` runs N API processes; a caller's limit must hold summed
over all of them (a per-process limit would let N times as much through).  Each
caller's token bucket is a row of ``rate_buckets`` (migration 0007), refilled and taken
from in one ``INSERT ... ON CONFLICT DO UPDATE`` on the database's clock: concurrent
requests from any process serialize on the row, so the bucket is exactly the
in-memory :class:`~hub.service.ratelimit.Limiter`'s, shared.

Rows of callers quiet long enough to have a full bucket again are deleted now and
then (a missing row is a full bucket), so the table stays small.
"""

from __future__ import annotations

import itertools

from sqlalchemy import Engine, text

#: Take one token: refill by the time elapsed (the database's clock), then take if one is there.
TAKE = text(
    """
    INSERT INTO rate_buckets AS b (key, tokens, stamp, granted)
    VALUES (:key, :burst - 1, extract(epoch from clock_timestamp()), true)
    ON CONFLICT (key) DO UPDATE SET
      granted = least(:burst, b.tokens + (excluded.stamp - b.stamp) * :rate) >= 1,
      tokens = least(:burst, b.tokens + (excluded.stamp - b.stamp) * :rate)
               - CASE WHEN least(:burst, b.tokens + (excluded.stamp - b.stamp) * :rate) >= 1 THEN 1 ELSE 0 END,
      stamp = excluded.stamp
    RETURNING tokens, granted
    """
)
#: Forget buckets full again (``:idle`` seconds without a request).
PRUNE = text("DELETE FROM rate_buckets WHERE stamp < extract(epoch from clock_timestamp()) - :idle")
#: Prune once every this many takes.
PRUNE_EVERY = 10_000


class SharedLimiter:
    """A :class:`~hub.service.ratelimit.Limiter` whose buckets are rows of the catalog.

    Parameters
    ----------
    engine
        The catalog's engine (PostgreSQL).
    name
        Which limit (``requests``, ``uploads``): part of each row's key.
    rate, burst
        Tokens a second, and at most this many saved up.
    """

    #: :meth:`take` makes a round trip to the database: call it off the event loop.
    blocking = True

    def __init__(self, engine: Engine, name: str, rate: float, burst: float) -> None:
        if rate < 0 or burst < 0:
            raise ValueError(f"rate and burst must be >= 0, got rate={rate}, burst={burst}")
        self.engine = engine
        self.name = name
        self.rate = rate
        self.burst = max(1.0, burst)
        self._takes = itertools.count()

    @property
    def enabled(self) -> bool:
        """Whether the limit applies (a rate of 0 turns it off)."""
        return self.rate > 0

    def take(self, key: str, now: float) -> float:
        """Take one token from caller ``key``'s bucket (``now`` unused: the database's clock counts).

        Returns
        -------
        float
            0.0 when granted, else the seconds until a token is there.
        """
        with self.engine.begin() as conn:
            row = conn.execute(
                TAKE, {"key": f"{self.name}|{key}", "rate": self.rate, "burst": self.burst}
            ).one()
            if next(self._takes) % PRUNE_EVERY == PRUNE_EVERY - 1:
                conn.execute(PRUNE, {"idle": self.burst / self.rate})
        tokens, granted = float(row[0]), bool(row[1])
        return 0.0 if granted else (1.0 - tokens) / self.rate
