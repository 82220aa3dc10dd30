"""Orchestration: the Prefect flows, the engine they share, and the `breaknews` command.

- `ingest.py`, `site.py`, `reextract.py`: the flows a command runs (saved pages and archives, the
  live site, stored pages again); `schedule.py`: the flow `breaknews serve` schedules, and serving it.
- `engine.py`: batches any stream of work items through extraction (process pool, threads or Dask,
  `runners.py`) and the load stage, one run in the ledger; `progress.py`, `artifacts.py`: what a run
  shows on a terminal and in Prefect's UI.
- `prefect_server.py`: the local Prefect server breaknews keeps, and the Prefect settings a command
  runs under (telemetry off).
- `realign.py`: recompute every pair (`breaknews align`).
- `cli/`: the edge. It parses arguments, calls one function, prints, and turns typed errors into one
  line and an exit code.

Importing this package changes nothing in the process: the command sets what Prefect needs
(`prefect_server.command_environment`) before Prefect is first imported.
"""
