CREATE OR REPLACE VIEW articles_per_section AS
SELECT
    section,
    count(*) AS articles,
    count(*) FILTER (WHERE has_translation) AS with_translation,
    count(DISTINCT reporter) AS reporters,
    min(published_at) AS first_published,
    max(published_at) AS last_published
FROM articles
GROUP BY ALL;

-- What the view and its columns mean, in DuckDB's catalog (CREATE OR REPLACE drops it: it follows here).
COMMENT ON VIEW articles_per_section IS 'Articles per section (`정치`, `사회`, `칼럼`, …).';
COMMENT ON COLUMN articles_per_section.section IS 'Section name; NULL when the page names none.';
COMMENT ON COLUMN articles_per_section.articles IS 'Articles in the section.';
COMMENT ON COLUMN articles_per_section.with_translation IS 'Of those, with an English version.';
COMMENT ON COLUMN articles_per_section.reporters IS 'Distinct reporters.';
COMMENT ON COLUMN articles_per_section.first_published IS 'Earliest publication time.';
COMMENT ON COLUMN articles_per_section.last_published IS 'Latest publication time.';
