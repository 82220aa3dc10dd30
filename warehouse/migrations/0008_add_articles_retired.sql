-- Articles a run removed because their current page now yields another article (re-extraction found
-- the page's real identity): counted apart from the page counts, which still add up to pages_seen.
ALTER TABLE ingest_runs ADD COLUMN articles_retired INTEGER NOT NULL DEFAULT 0;
