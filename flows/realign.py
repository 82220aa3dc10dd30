"""`breaknews align`: recompute every translated article's pairs from the text already stored.

Ingest aligns new and changed articles as they load; this is for a warehouse filled before the
aligner existed or by an older aligner version. The warehouse reads and writes (one transaction);
the align stage computes.
"""

from __future__ import annotations

from collections.abc import Sequence

from breaknews.tasks.align import align_article
from breaknews.warehouse.connect import writer
from breaknews.warehouse.handle import Warehouse
from breaknews.warehouse.models import ParagraphPair
from breaknews.warehouse.realign import StoredText, replace_all_pairs


def _pairs(text: StoredText) -> Sequence[ParagraphPair]:
    return align_article(text.paragraphs_ko, text.paragraphs_en, text.captions, text.title_ko, text.title_en)


def realign(warehouse: Warehouse) -> tuple[int, int]:
    """Returns (translated articles, pairs written)."""
    with writer(warehouse) as con:
        return replace_all_pairs(con, _pairs)
