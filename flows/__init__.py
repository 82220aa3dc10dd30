"""Orchestration: the Prefect flows, the engine they share, and the `breaknews` command.

- `ingest.py`, `site.py`, `reextract.py`: the flows a command runs (saved pages and archives, the
  live site, stored pages again); `schedule.py`: the flow `breaknews serve` schedules, and serving it.
- `engine.py`: batches any stream of work items through extraction (process pool, threads or Dask,
  `runners.py`) and the load stage, one run in the ledger; `progress.py`, `artifacts.py`: what a run
  shows on a terminal and in Prefect's UI.
- `kept_server.py`: the local Prefect server breaknews keeps (started, found, stopped);
  `prefect_api.py`: which Prefect API a run or a serve uses; `prefect_environment.py`: the settings
  every command sets before Prefect loads (telemetry off); `heartbeats.py`: none for a command's runs.
- `signals.py`: SIGINT and SIGTERM deferred to a safe point of the run, the second one at once.
- `realign.py`: recompute every pair (`breaknews align`).
- `cli/`: the edge. It parses arguments, calls one function, prints, and turns typed errors into one
  line and an exit code.

Importing this package changes nothing in the process: the command sets what Prefect needs
(`prefect_environment.command_environment`) before Prefect is first imported.
"""
