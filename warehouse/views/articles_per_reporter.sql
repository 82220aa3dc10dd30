-- Articles per reporter (by name as printed), with their usual role and the bureaus they filed from.
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
