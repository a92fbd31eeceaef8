"""The rankings of a campaign's ideas, kept in `idea.top` and `idea.hot` by every vote.

- **top**: the lower bound of the Wilson score interval (95 %) for the share of up votes — an idea with 40 of 50
  up ranks above one with 3 of 3, which a plain ratio would not.
- **hot**: net votes on a log scale plus the idea's age: an idea `HOT_SECONDS` newer needs ten times fewer net votes
  to rank the same. Stored as `age term + log term`, so a vote only swaps the log term (`hot - f(old) + f(new)`)
  in the same UPDATE as the counts, and the list reads an index.

Each has a Python twin of its SQL expression: tests check they agree.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import Float, case, cast, func

Z = 1.959964  # 95 %
HOT_SECONDS = 2 * 86400
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def wilson(up: int, down: int) -> float:
    n = up + down
    if n == 0:
        return 0.0
    p = up / n
    return (p + Z * Z / (2 * n) - Z * math.sqrt((p * (1 - p) + Z * Z / (4 * n)) / n)) / (1 + Z * Z / n)


def wilson_sql(up: Any, down: Any) -> Any:
    n = cast(up + down, Float)
    p = cast(up, Float) / func.nullif(n, 0)
    value = (p + Z * Z / (2 * n) - Z * func.sqrt((p * (1 - p) + Z * Z / (4 * n)) / n)) / (1 + Z * Z / n)
    return case((up + down == 0, 0.0), else_=value)


def vote_term(net: int) -> float:
    return math.copysign(math.log10(max(abs(net), 1)), net)


def vote_term_sql(net: Any) -> Any:
    return func.sign(net) * func.log(cast(func.greatest(func.abs(net), 1), Float))  # log(float): base 10


def age_term(created_at: dt.datetime) -> float:
    return (created_at - EPOCH).total_seconds() / HOT_SECONDS


def hot(up: int, down: int, created_at: dt.datetime) -> float:
    return age_term(created_at) + vote_term(up - down)
