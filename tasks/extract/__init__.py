"""Extract (stage 3): one BreakNews article from decoded HTML: metadata from the site's markup, the body from
its container with paragraph boundaries kept, photo captions with their credits and images.

Two skins are known (BREAKNEWS.md): the modern "ins_news" skin (``div#CLtag`` inside
``td.td_sub_read_contents``) and the old table skin (``td.read_body div#CLtag``). The same publishing
system's variants are read too: the title in ``h1`` or ``h2.read_title``, the body in ``div#textinput``
or the body cell itself when there is no ``div#CLtag``, the date line labelled 입력/등록/기사입력 next to
최종편집/수정 in any order. trafilatura 2.3 flattens the table cell that holds the body into one
``| … |`` line, so the body container is cut out of its table and its lines read from the markup, which
keeps paragraph boundaries whether the page writes ``<p>`` or ``<br>``; trafilatura judges the lines that
are mostly links. Pages in an unknown skin go to trafilatura whole, their title from ``og:title``, the
article's ``h1`` or ``<title>`` without the site's name.

Each field is read on its own and left empty when it cannot be read: a variant we do not know costs
that field, never the article.

One job a module, as trafilatura splits its extractor:

- `core.py`      the page checked whole, parsed, and taken through the others (`extract_article`)
- `body.py`      the body container and its lines; an unknown skin's main text (trafilatura's `main_extractor`)
- `title.py`     the headline, without the site's name
- `metadata.py`  byline, dateline, times, section, the page's URLs; `Extracted`, the stage's result
- `lines.py`     what a line is: text, a caption and its credit, boilerplate or debris
- `xpaths.py`    where each thing is in the markup, and how an expression is evaluated
"""

from breaknews.tasks.extract.core import extract_article
from breaknews.tasks.extract.lines import clean_text, split_caption
from breaknews.tasks.extract.metadata import Extracted

__all__ = ["Extracted", "clean_text", "extract_article", "split_caption"]
