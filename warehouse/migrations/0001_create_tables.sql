-- The foundation schema: articles and their parts, raw pages, the run ledger and failures.

CREATE TABLE ingest_runs (
    run_id              VARCHAR PRIMARY KEY,   -- our id for the run (UUID)
    flow_run_id         VARCHAR,               -- Prefect flow-run id
    command             VARCHAR NOT NULL,      -- e.g. 'ingest'
    sources             VARCHAR,               -- what the run was asked to read (paths, URLs)
    started_at          TIMESTAMPTZ NOT NULL,
    ended_at            TIMESTAMPTZ,
    status              VARCHAR NOT NULL,      -- running | completed | failed
    pages_seen          INTEGER NOT NULL DEFAULT 0,
    pages_skipped       INTEGER NOT NULL DEFAULT 0, -- bytes already stored and extracted by this version
    articles_new        INTEGER NOT NULL DEFAULT 0,
    articles_updated    INTEGER NOT NULL DEFAULT 0,
    articles_unchanged  INTEGER NOT NULL DEFAULT 0,
    failures            INTEGER NOT NULL DEFAULT 0,
    with_translation    INTEGER NOT NULL DEFAULT 0,
    without_translation INTEGER NOT NULL DEFAULT 0,
    extractor_version   VARCHAR,
    message             VARCHAR                -- why a run failed, when it did
);

CREATE TABLE raw_pages (
    page_sha256       VARCHAR PRIMARY KEY,     -- SHA-256 of the bytes as received
    source            VARCHAR NOT NULL,        -- file path or URL where the bytes were first read
    source_kind       VARCHAR NOT NULL,        -- file | http | warc
    url               VARCHAR,                 -- URL the bytes were fetched from, when known
    byte_size         BIGINT NOT NULL,
    compression       VARCHAR NOT NULL,        -- codec of `content`: zlib
    content           BLOB NOT NULL,           -- the page bytes, compressed
    charset           VARCHAR,                 -- codec the bytes were decoded with (cp949 for EUC-KR)
    charset_source    VARCHAR,                 -- bom | header | meta | guess (+ /lossy)
    http_status       INTEGER,
    etag              VARCHAR,
    last_modified     VARCHAR,
    content_type      VARCHAR,
    status            VARCHAR NOT NULL,        -- article | failed
    article_id        VARCHAR,                 -- the article the page yielded; NULL when it failed
    extractor_version VARCHAR NOT NULL,        -- extractor that last processed the page
    fetched_at        TIMESTAMPTZ NOT NULL,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    run_id            VARCHAR NOT NULL         -- run that first stored the page
);

CREATE TABLE articles (
    article_id        VARCHAR PRIMARY KEY,     -- '{host family}:{uid}', or 'content:{hash}' when no uid is known
    host_family       VARCHAR,                 -- www (www., bare, m.) or the regional host label
    uid               BIGINT,
    url               VARCHAR,                 -- canonical https://www.breaknews.com/{uid} form
    identity_source   VARCHAR NOT NULL,        -- url | saved_from | canonical | og_url | self_link | content
    title_ko          VARCHAR NOT NULL,
    title_en          VARCHAR,
    subtitle          VARCHAR,
    reporter          VARCHAR,
    reporter_role     VARCHAR,
    bureau            VARCHAR,
    section           VARCHAR,
    section_code      VARCHAR,
    published_at      TIMESTAMPTZ,
    modified_at       TIMESTAMPTZ,
    body_ko           VARCHAR NOT NULL,
    body_en           VARCHAR,
    byline_en         VARCHAR,
    has_translation   BOOLEAN NOT NULL,
    split_method      VARCHAR NOT NULL,        -- marker | latin_tail | none | marker_empty
    lead_image_url    VARCHAR,
    skin              VARCHAR NOT NULL,        -- modern | old | generic
    paragraphs_ko     INTEGER NOT NULL,
    paragraphs_en     INTEGER NOT NULL,
    content_sha256    VARCHAR NOT NULL,        -- hash of the extracted content; a change makes a revision
    revision          INTEGER NOT NULL,        -- 1 for the first version, +1 per content change
    page_sha256       VARCHAR NOT NULL,        -- raw page the current revision was extracted from
    extractor_version VARCHAR NOT NULL,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,    -- when the current revision was loaded
    run_id            VARCHAR NOT NULL         -- run that loaded the current revision
);

CREATE TABLE article_revisions (
    article_id        VARCHAR NOT NULL,
    revision          INTEGER NOT NULL,
    content_sha256    VARCHAR NOT NULL,
    page_sha256       VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    title_ko          VARCHAR NOT NULL,
    title_en          VARCHAR,
    body_ko           VARCHAR NOT NULL,
    body_en           VARCHAR,
    loaded_at         TIMESTAMPTZ NOT NULL,
    run_id            VARCHAR NOT NULL,
    PRIMARY KEY (article_id, revision)
);

-- Child rows are replaced wholesale when their article changes; no key index keeps bulk loads fast.
CREATE TABLE paragraphs (
    article_id VARCHAR NOT NULL,
    lang       VARCHAR NOT NULL,   -- ko | en
    position   INTEGER NOT NULL,   -- 0-based order within the language
    text       VARCHAR NOT NULL
);

CREATE TABLE captions (
    article_id VARCHAR NOT NULL,
    lang       VARCHAR NOT NULL,   -- ko | en
    position   INTEGER NOT NULL,   -- 0-based order within the language
    text       VARCHAR NOT NULL,   -- caption without its ▲ and credit
    credit     VARCHAR,            -- the part after ©/ⓒ, or the 사진출처= value
    image_url  VARCHAR
);

CREATE TABLE ingest_failures (
    run_id      VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,  -- file path or URL
    url         VARCHAR,
    page_sha256 VARCHAR,           -- raw page kept for a later retry, when bytes were read
    stage       VARCHAR NOT NULL,  -- read | decode | extract | split | load | fetch | …
    reason      VARCHAR NOT NULL,
    failed_at   TIMESTAMPTZ NOT NULL
);
