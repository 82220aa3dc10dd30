CREATE OR REPLACE VIEW articles_per_reporter AS
SELECT
    reporter,
    mode(reporter_role) AS reporter_role,
    count(*) AS articles,
    count(*) FILTER (WHERE has_translation) AS with_translation,
    string_agg(DISTINCT bureau, ', ' ORDER BY bureau) AS bureaus,
    min(published_at) AS first_published,
    max(published_at) AS last_published
FROM articles
WHERE reporter IS NOT NULL
GROUP BY reporter;

-- What the view and its columns mean, in DuckDB's catalog (CREATE OR REPLACE drops it: it follows here).
COMMENT ON VIEW articles_per_reporter IS 'Articles per reporter (by name as printed), with their usual role and the bureaus they filed from.';
COMMENT ON COLUMN articles_per_reporter.reporter IS 'The writer''s name as printed.';
COMMENT ON COLUMN articles_per_reporter.reporter_role IS 'The role they most often sign with (`기자`, `발행인`, …).';
COMMENT ON COLUMN articles_per_reporter.articles IS 'Their articles.';
COMMENT ON COLUMN articles_per_reporter.with_translation IS 'Of those, with an English version.';
COMMENT ON COLUMN articles_per_reporter.bureaus IS 'The bureaus they filed from, comma-separated; NULL when none.';
COMMENT ON COLUMN articles_per_reporter.first_published IS 'Their earliest article.';
COMMENT ON COLUMN articles_per_reporter.last_published IS 'Their latest article.';
