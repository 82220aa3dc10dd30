-- Share of each month's articles (Korea time) that carry an English translation.
CREATE OR REPLACE VIEW translation_coverage_by_month AS
SELECT
    CAST(date_trunc('month', timezone('Asia/Seoul', published_at)) AS DATE) AS month,
    count(*) AS articles,
    count(*) FILTER (WHERE has_translation) AS with_translation,
    round(count(*) FILTER (WHERE has_translation) / count(*), 4) AS coverage,
    CAST(sum(paragraphs_ko) AS BIGINT) AS paragraphs_ko,
    CAST(sum(paragraphs_en) AS BIGINT) AS paragraphs_en
FROM articles
WHERE published_at IS NOT NULL
GROUP BY ALL;
