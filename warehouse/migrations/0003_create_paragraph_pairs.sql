-- The parallel corpus: each translated article's Korean paragraphs aligned with their English
-- translation (tasks/align.py). Rewritten with the article's paragraphs whenever its content changes.

CREATE TABLE paragraph_pairs (
    article_id  VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,   -- body | caption | title
    position    INTEGER NOT NULL,   -- 0-based order among the article's pairs of this kind
    ko_first    INTEGER NOT NULL,   -- first Korean paragraph (paragraphs.position, or captions.position)
    ko_last     INTEGER NOT NULL,   -- last Korean paragraph, inclusive
    en_first    INTEGER NOT NULL,
    en_last     INTEGER NOT NULL,
    ko_text     VARCHAR NOT NULL,   -- the Korean paragraphs, joined by newlines
    en_text     VARCHAR NOT NULL,
    score       DOUBLE NOT NULL,    -- 0..1
    bead        VARCHAR NOT NULL,   -- 1-1 | 2-1 | 1-2
    method      VARCHAR NOT NULL,   -- aligner version
    PRIMARY KEY (article_id, kind, position)
);
