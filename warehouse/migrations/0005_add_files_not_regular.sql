-- Paths an ingest skipped unopened because they are not regular files (a FIFO named *.html, a socket,
-- a device): not pages, so not failures, but counted so the run says what it left out.
ALTER TABLE ingest_runs ADD COLUMN files_not_regular BIGINT NOT NULL DEFAULT 0;
