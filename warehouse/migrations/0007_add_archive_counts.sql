-- What a run got from archive files: files read and skipped as already read, records kept (in total
-- and by host), bytes read. Set by the reader at the end of the run; per file, see archive_files.
ALTER TABLE ingest_runs ADD COLUMN archives_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN archives_skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN records_kept BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ingest_runs ADD COLUMN records_kept_by_host MAP(VARCHAR, BIGINT);
ALTER TABLE ingest_runs ADD COLUMN bytes_read BIGINT NOT NULL DEFAULT 0;
