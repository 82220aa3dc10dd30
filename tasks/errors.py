"""Errors of the pipeline stages: each names the stage that rejected a page and why.

A `PageError` never ends a run: the page is recorded in `ingest_failures` with `stage` and `reason`
and the run goes on. The stages, in the order a page meets them: read → decode → extract → split →
identify → align → load.
"""

from __future__ import annotations

from typing import ClassVar

from breaknews.warehouse.errors import BreaknewsError


class PageError(BreaknewsError):
    """A page produced no article. ``stage`` names the step that rejected it."""

    stage: ClassVar[str] = "page"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.stage}: {self.reason}"


class ReadError(PageError):
    stage = "read"


class DecodeError(PageError):
    stage = "decode"


class ExtractError(PageError):
    stage = "extract"


class NotAnArticleError(ExtractError):
    """The page decoded fine but is not an article (a notice, a list page, …)."""


class TruncatedPageError(ExtractError):
    """The page stops before its article ends; loading it would lose text silently."""


class SplitError(PageError):
    stage = "split"


class IdentifyError(PageError):
    stage = "identify"


class AlignError(PageError):
    stage = "align"


class LoadError(PageError):
    stage = "load"
