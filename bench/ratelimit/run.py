"""Rate-limit bookkeeping per request: credstack.moving_window beside `limits`' async
memory storage (the baseline, what the limiter used before), as the clients counted grow.

    ./dev bench ratelimit

Each request tests and hits "30/minute;1000/day" for one of N clients, in one event loop,
as the middleware does; the figure is CPU time per request. Nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import time

from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from credstack.moving_window import MovingWindows

ITEMS = parse_many("30/minute;1000/day")
REQUESTS = 2_000


async def with_limits(clients: int) -> float:
    limiter = MovingWindowRateLimiter(MemoryStorage())
    for client in range(clients):
        for item in ITEMS:
            await limiter.hit(item, "route", f"sub:{client}")
    await asyncio.sleep(0.05)
    started = time.process_time()
    for request in range(REQUESTS):
        ids = ("route", f"sub:{request % clients}")
        if all([await limiter.test(item, *ids) for item in ITEMS]):
            for item in ITEMS:
                await limiter.hit(item, *ids)
        await asyncio.sleep(0)  # the storage's expiry task runs between requests
    await asyncio.sleep(0.05)
    return (time.process_time() - started) / REQUESTS * 1e6


async def with_moving_windows(clients: int) -> float:
    windows = MovingWindows()
    for client in range(clients):
        for item in ITEMS:
            windows.hit(item, "route", f"sub:{client}")
    started = time.process_time()
    for request in range(REQUESTS):
        ids = ("route", f"sub:{request % clients}")
        if all(windows.test(item, *ids) for item in ITEMS):
            for item in ITEMS:
                windows.hit(item, *ids)
        await asyncio.sleep(0)
    return (time.process_time() - started) / REQUESTS * 1e6


def main() -> None:
    print(f"{'clients counted':>16} {'limits (baseline)':>18} {'moving_window':>14} {'ratio':>6}")
    for clients in (10, 1_000, 3_000):
        baseline = asyncio.run(with_limits(clients))
        ours = asyncio.run(with_moving_windows(clients))
        print(f"{clients:>16} {baseline:>15.0f} µs {ours:>11.1f} µs {ours / baseline:>6.2f}")


if __name__ == "__main__":
    main()
