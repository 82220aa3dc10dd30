"""SIGINT and SIGTERM the dlt way (flows/signals.py): the first one is noted and raised at a safe point of
breaknews' own code, a second one of the same kind goes through at once; and what a terminal shows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import EXE, poll_count, rows
from tests.sitegen import write_corpus

ROOT = Path(__file__).resolve().parent.parent

# Real signals need the main thread of a process of their own.
_SEMANTICS = """
import concurrent.futures, os, signal, time
from prefect.exceptions import TerminationSignal
from breaknews.flows import signals

def kill(signum):
    os.kill(os.getpid(), signum)
    time.sleep(0.05)  # the handler runs here, between two bytecodes

before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
with signals.delayed_signals() as received:
    kill(signal.SIGINT)
    print("first SIGINT noted, not raised:", received.signum == signal.SIGINT)
    try:
        received.raise_if_signalled()
    except KeyboardInterrupt:
        print("raised at the safe point: KeyboardInterrupt")
    try:
        kill(signal.SIGINT)
        print("second SIGINT: not raised")
    except KeyboardInterrupt:
        print("second SIGINT raised at once: KeyboardInterrupt")
print("handlers restored:", (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before)

with signals.delayed_signals() as received:
    kill(signal.SIGTERM)
    try:
        received.raise_if_signalled()
    except TerminationSignal as exc:
        print("SIGTERM raised as Prefect's TerminationSignal:", exc.signal == signal.SIGTERM)

with concurrent.futures.ThreadPoolExecutor() as pool, signals.delayed_signals():
    slow = pool.submit(time.sleep, 30)
    started = time.monotonic()
    pool.submit(lambda: (time.sleep(0.5), os.kill(os.getpid(), signal.SIGINT)))
    try:
        signals.result(slow)
    except KeyboardInterrupt:
        print(f"a wait on a future is a safe point: raised after {time.monotonic() - started:.0f} s, not 30")
    slow.cancel()
    print("a finished future gives its result:", signals.result(pool.submit(lambda: 42)) == 42)

forced = []
with signals.delayed_signals(force=forced.append):
    kill(signal.SIGTERM)
    kill(signal.SIGTERM)
print("a second SIGTERM goes to force:", forced == [signal.SIGTERM])
os._exit(0)  # the sleeping thread of the first pool is not waited for
"""


def test_the_first_signal_waits_for_a_safe_point_and_the_second_goes_through():
    done = subprocess.run(
        [sys.executable, "-c", _SEMANTICS], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.splitlines() == [
        "first SIGINT noted, not raised: True",
        "raised at the safe point: KeyboardInterrupt",
        "second SIGINT raised at once: KeyboardInterrupt",
        "handlers restored: True",
        "SIGTERM raised as Prefect's TerminationSignal: True",
        "a wait on a future is a safe point: raised after 1 s, not 30",
        "a finished future gives its result: True",
        "a second SIGTERM goes to force: True",
    ], done.stderr


def test_verbose_shows_prefects_own_lines_on_ctrl_c(shared_prefect_env, tmp_path):
    """Without -v a Ctrl-C prints one line (tests/test_run_counts.py); with -v, Prefect's own log lines
    are on the terminal too, its "Crash detected!" for the interrupted run among them."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 3000, first_uid=4_700_000)
    db = tmp_path / "w.duckdb"
    run = subprocess.Popen(
        [EXE, "ingest", str(corpus), "--db", str(db), "--batch-size", "10", "--workers", "1", "-v"],
        env=shared_prefect_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while poll_count(db, "articles") < 20 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.2)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, err
    assert "Crash detected" in err, err  # (the environment's PREFECT_LOGGING_LEVEL=WARNING leaves out INFO)
    assert err.rstrip().endswith("breaknews: interrupted")


def test_the_run_stops_promptly_while_it_waits_on_the_site(shared_prefect_env, tmp_path):
    """A live run waiting on a slow fetch batch stops at that wait (a safe point), not after the batch."""
    from tests.site_server import SiteServer

    db = tmp_path / "w.duckdb"
    with SiteServer(range(4_800_000, 4_800_040), per_page=10, feed_size=10, latency=1.0) as site:
        run = subprocess.Popen(
            [EXE, "ingest", "--site", site.base_url, "--rate", "0", "--concurrency", "1", "--db", str(db)],
            env=shared_prefect_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while len(site.article_paths()) < 3 and time.monotonic() < deadline and run.poll() is None:
                time.sleep(0.1)
            started = time.monotonic()
            os.kill(run.pid, signal.SIGTERM)
            _, err = run.communicate(timeout=60)
            stopped_in = time.monotonic() - started
        finally:
            if run.poll() is None:
                run.kill()
        fetched = len(site.article_paths())
    assert run.returncode == -signal.SIGTERM, err
    assert stopped_in < 10 and fetched < 20, (stopped_in, fetched)  # the 40 pages take 40 s at one a second
    assert "Traceback" not in err, err
    assert rows(db, "SELECT status FROM ingest_runs") == [("cancelled",)]
