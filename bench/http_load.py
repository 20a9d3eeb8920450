"""A closed-loop HTTP load generator (aiohttp): `clients` connections, each sending its next
request as soon as the previous one is answered, for a fixed number of requests."""

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp

T = TypeVar("T")


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    wall_seconds: float = 0.0

    def record(self, status: int | None, seconds: float) -> None:
        if status is None:
            self.errors += 1
            return
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self) -> dict:
        return {
            "requests": len(self.latencies) + self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "requests_per_second": round(len(self.latencies) / self.wall_seconds, 1)
            if self.wall_seconds
            else 0.0,
            "p50_ms": ms(percentile(self.latencies, 50)),
            "p90_ms": ms(percentile(self.latencies, 90)),
            "p99_ms": ms(percentile(self.latencies, 99)),
        }


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# A request: (method, path, json body or None, headers)
Request = tuple[str, str, dict | None, dict]


async def closed_loop(
    base_url: str, make_request: Callable[[int], Request], clients: int, total: int
) -> LoadResult:
    """Send `total` requests from `clients` concurrent clients; each client has its own
    session (cookie jar) so guests are distinct browsers."""
    result = LoadResult()
    counter = iter(range(total))

    async def client() -> None:
        connector = aiohttp.TCPConnector(limit=1)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as s:
            for number in counter:
                method, path, body, headers = make_request(number)
                began = time.perf_counter()
                try:
                    async with s.request(method, path, json=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = None
                result.record(status, time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.wall_seconds = time.perf_counter() - began
    return result


def run_closed_loop(
    base_url: str, make_request: Callable[[int], Request], clients: int, total: int
) -> LoadResult:
    """Run on its own thread: Playwright's sync API may have left an event loop on this one."""
    return in_thread(lambda: asyncio.run(closed_loop(base_url, make_request, clients, total)))


def in_thread(fn: Callable[[], T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()
