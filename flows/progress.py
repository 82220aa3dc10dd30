"""The progress bar a run shows on a terminal (stderr)."""

from __future__ import annotations

from breaknews.warehouse.models import SourceStats


class Progress:
    """A progress bar on a terminal (stderr); the CLI only asks for it when stderr is a TTY. Counts
    pages, or bytes read when the sources keep byte counts (archives, whose page count is unknown)."""

    def __init__(self, total: int | None, source_stats: SourceStats | None = None) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._stats = source_stats
        count = DownloadColumn() if source_stats is not None else MofNCompleteColumn()
        self._progress = Progress(TextColumn("ingesting"), BarColumn(), count, TimeRemainingColumn(), transient=True)
        self._task = self._progress.add_task("pages", total=source_stats.bytes_total if source_stats else total)
        self._progress.start()

    def advance(self, pages: int) -> None:
        if self._stats is not None:  # archives streamed from a URL add their size as they open
            total = self._stats.bytes_total or None
            self._progress.update(self._task, completed=self._stats.bytes_done, total=total)
        else:
            self._progress.advance(self._task, pages)

    def close(self) -> None:
        self._progress.stop()
