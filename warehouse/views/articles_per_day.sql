-- Articles published per day (Korea time), with how many carry an English translation.
CREATE OR REPLACE VIEW articles_per_day AS
SELECT
    CAST(timezone('Asia/Seoul', published_at) AS DATE) AS day,
    count(*) AS articles,
    count(*) FILTER (WHERE has_translation) AS with_translation,
    count(DISTINCT bureau) AS bureaus
FROM articles
WHERE published_at IS NOT NULL
GROUP BY ALL;
