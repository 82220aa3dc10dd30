-- Archive files (WARC) read to their end, one row each time one is: the row is written in the same
-- transaction as the file's last page, so a file recorded here gave everything it had to the warehouse.
-- A rerun of the same files or path list skips the files recorded here for the same host filter.

CREATE TABLE archive_files (
    location     VARCHAR NOT NULL,              -- the path (absolute) or URL the file was read from
    hosts        VARCHAR NOT NULL,              -- the host filter it was read with: 'default' or the hosts, comma-separated
    size         BIGINT,                        -- bytes in the file, when known
    bytes_read   BIGINT NOT NULL,               -- bytes read from the disk or the network
    records_read BIGINT NOT NULL,               -- response, resource and revisit records
    records_kept BIGINT NOT NULL,               -- records that became pages
    failures     INTEGER NOT NULL,              -- records (or stretches of bytes) that could not be read
    kept_by_host MAP(VARCHAR, BIGINT) NOT NULL, -- records_kept by the host of their URL
    read_at      TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR NOT NULL               -- the run that read it (ingest_runs.run_id)
);
