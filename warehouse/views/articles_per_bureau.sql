CREATE OR REPLACE VIEW articles_per_bureau AS
SELECT
    bureau,
    count(*) AS articles,
    count(*) FILTER (WHERE has_translation) AS with_translation,
    count(DISTINCT reporter) AS reporters,
    min(published_at) AS first_published,
    max(published_at) AS last_published
FROM articles
GROUP BY ALL;

-- What the view and its columns mean, in DuckDB's catalog (CREATE OR REPLACE drops it: it follows here).
COMMENT ON VIEW articles_per_bureau IS 'Articles per regional bureau (from the dateline).';
COMMENT ON COLUMN articles_per_bureau.bureau IS 'Regional bureau; NULL for articles whose dateline names none.';
COMMENT ON COLUMN articles_per_bureau.articles IS 'Articles from the bureau.';
COMMENT ON COLUMN articles_per_bureau.with_translation IS 'Of those, with an English version.';
COMMENT ON COLUMN articles_per_bureau.reporters IS 'Distinct reporters.';
COMMENT ON COLUMN articles_per_bureau.first_published IS 'Earliest publication time.';
COMMENT ON COLUMN articles_per_bureau.last_published IS 'Latest publication time.';
