-- Records read from web archives (WARC) and those skipped on purpose, by reason. Skips are not
-- failures: an archive of a news crawl holds mostly other sites' pages, images and revisits.
ALTER TABLE ingest_runs ADD COLUMN records_read BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN records_other_host BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN records_revisit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN records_not_html BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN records_not_ok BIGINT NOT NULL DEFAULT 0;
