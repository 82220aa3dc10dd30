CREATE OR REPLACE VIEW articles_per_day AS
SELECT
    CAST(timezone('Asia/Seoul', published_at) AS DATE) AS day,
    count(*) AS articles,
    count(*) FILTER (WHERE has_translation) AS with_translation,
    count(DISTINCT bureau) AS bureaus
FROM articles
WHERE published_at IS NOT NULL
GROUP BY ALL;

-- What the view and its columns mean, in DuckDB's catalog (CREATE OR REPLACE drops it: it follows here).
COMMENT ON VIEW articles_per_day IS 'Articles published per day (Korea time), with how many carry an English translation.';
COMMENT ON COLUMN articles_per_day.day IS 'Publication day (Korea time).';
COMMENT ON COLUMN articles_per_day.articles IS 'Articles published that day.';
COMMENT ON COLUMN articles_per_day.with_translation IS 'Of those, with an English version.';
COMMENT ON COLUMN articles_per_day.bureaus IS 'Distinct regional bureaus that filed that day.';
