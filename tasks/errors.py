"""Typed errors that name the pipeline stage that failed and why."""

from __future__ import annotations

from warehouse.errors import WarehouseBusyError as WarehouseBusyError
from warehouse.errors import WarehouseError as WarehouseError


class BreaknewsError(Exception):
    """Base class of every error this package raises on purpose."""


class PageError(BreaknewsError):
    """A page produced no article. ``stage`` names the step that rejected it."""

    stage = "page"

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
