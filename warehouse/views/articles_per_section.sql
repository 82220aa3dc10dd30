-- Articles per section (정치, 사회, 칼럼, ...); section NULL = the page names none.
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
