-- Articles per regional bureau (from the dateline); bureau NULL = no bureau in the dateline.
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
