"""Errors of the warehouse layer."""


class WarehouseError(Exception):
    """The warehouse cannot be opened, migrated, read or written."""


class WarehouseBusyError(WarehouseError):
    """Another breaknews process holds the warehouse's write lock."""
