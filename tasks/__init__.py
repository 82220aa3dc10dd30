"""The stages of the pipeline, as plain functions (no Prefect import): one module per stage, in the
order a page meets them.

1. read      `read.py` (files and folders), `warc.py` (web archives; a damaged one walked by `warc_recovery.py`),
             `discover.py` + `fetch.py` (the live site)
2. decode    `decode.py`: bytes → text (HTTP charset, `<meta>`, EUC-KR as cp949)
3. extract   `extract/`: title, byline, time, body blocks and captions from the site's markup (a package:
             `core`, `body`, `title`, `metadata`, `lines`, `xpaths`)
4. split     `split.py`: the Korean original and its English translation
5. identify  `identify.py`: which article it is, (host family, uid)
6. align     `align.py`: Korean–English paragraph pairs
7. load      `load.py`: a batch into the warehouse (its SQL is in `warehouse/write.py`)

`pipeline.py` runs one page through stages 2–6 in a worker. `errors.py` has one error per stage,
`versions.py` the extractor and aligner versions, `library_logs.py` whether the libraries extraction uses
may log (`-v`, in every process that extracts). Stages import each other forward only and the
warehouse below them, never `breaknews.flows`.
"""
