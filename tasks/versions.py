"""Versions of what turns pages into rows. Kept apart from the stages so the loader and the ledger can
name them without importing trafilatura and lxml.

Bump EXTRACTOR_VERSION when a change to extraction, the split or identity can change what a page
yields: `reextract` and re-ingest use it to tell which stored pages are due for another pass.
"""

EXTRACTOR_VERSION = "2026.12.01.2"
ALIGNER_VERSION = "gc-1"
