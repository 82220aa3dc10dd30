"""Fetch 1,000 articles from a loopback imitation of the site that adds 50 ms to every response, at
concurrency 4, the way the ingest-site flow does (batches of 100, two batches in flight on one shared
fetcher), and print the wall time as a ratio to the ideal 1,000 × 50 ms / 4 = 12.5 s. Aim: ≤ 1.3×.

The server runs in its own process, as the real site would be on its own machine, so its Python work
does not compete with the fetcher for the GIL.

    .venv/bin/python bench/bench_fetch.py [--articles 1000] [--latency 0.05] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from breaknews.flows.site import _BATCHES_IN_FLIGHT, FETCH_BATCH_SIZE
from breaknews.tasks.fetch import Fetched, SiteFetcher
from breaknews.tasks.http import FetchConfig

FIRST_UID = 4_000_000


def serve(articles: int, conn: Connection) -> None:
    from tests.site_server import SiteServer

    with SiteServer(range(FIRST_UID, FIRST_UID + articles)) as site:
        conn.send(site.base_url)
        while True:
            command, value = conn.recv()
            if command == "latency":
                site.latency = value
                site.reset_log()
                conn.send(None)
            elif command == "stop":
                conn.send((site.max_concurrency, len(site.article_paths())))
                return


def plain_httpx(urls: list[str], concurrency: int) -> float:
    """The same requests with nothing but httpx and a semaphore: what this machine allows right now."""
    import asyncio

    import httpx

    async def run() -> float:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(trust_env=False) as client:

            async def one(url: str) -> None:
                async with gate:
                    (await client.get(url)).raise_for_status()

            await one(urls[0])
            started = time.perf_counter()
            await asyncio.gather(*(one(u) for u in urls))
            return time.perf_counter() - started

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(args.articles, theirs), daemon=True)
    server.start()
    base = ours.recv()
    urls = [f"{base}/{uid}" for uid in range(FIRST_UID, FIRST_UID + args.articles)]
    with SiteFetcher([base], FetchConfig(concurrency=args.concurrency, rate=0)) as fetcher:
        fetcher.fetch_many([base + "/robots.txt"])  # robots.txt read and a connection warm, as in a run
        ours.send(("latency", args.latency))
        ours.recv()
        started = time.perf_counter()
        outcomes = []
        with ThreadPoolExecutor(_BATCHES_IN_FLIGHT) as pool:  # as the flow's task runner does
            in_flight: deque = deque()
            for start in range(0, len(urls), FETCH_BATCH_SIZE):
                in_flight.append(pool.submit(fetcher.fetch_many, urls[start : start + FETCH_BATCH_SIZE]))
                if len(in_flight) >= _BATCHES_IN_FLIGHT:
                    outcomes += in_flight.popleft().result()
            while in_flight:
                outcomes += in_flight.popleft().result()
        wall = time.perf_counter() - started
    baseline = plain_httpx(urls, args.concurrency)
    ours.send(("stop", None))
    peak, served = ours.recv()
    server.join(timeout=10)

    ok = sum(isinstance(o, Fetched) for o in outcomes)
    print(f"fetched {ok}/{args.articles} articles ({served} served), {fetcher.stats.bytes / 1e6:.1f} MB,")
    print(f"  peak concurrency seen by the server {peak} (limit {args.concurrency})")
    if args.latency > 0:
        ideal = args.articles * args.latency / args.concurrency
        print(
            f"wall {wall:.2f} s, ideal {ideal:.2f} s"
            f" ({args.articles} × {args.latency * 1000:.0f} ms / {args.concurrency})"
        )
        print(f"ratio to ideal: {wall / ideal:.2f}× (aim ≤ 1.3×)")
        print(
            f"baseline, same run: bare httpx at concurrency {args.concurrency} (no politeness, no retries) took"
            f" {baseline:.2f} s = {baseline / ideal:.2f}× ideal; breaknews/bare = {wall / baseline:.2f}×"
        )
    else:
        print(f"wall {wall:.2f} s: {args.articles / wall:.0f} pages/s with no added latency")
    if ok != args.articles or peak > args.concurrency:
        sys.exit("bench failed: not every article fetched, or the concurrency limit was exceeded")


if __name__ == "__main__":
    main()
