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

-- What the view and its columns mean, in DuckDB's catalog (CREATE OR REPLACE drops it: it follows here).
COMMENT ON VIEW translation_coverage_by_month IS 'Share of each month''s articles (Korea time) that carry an English translation.';
COMMENT ON COLUMN translation_coverage_by_month.month IS 'First day of the month (Korea time).';
COMMENT ON COLUMN translation_coverage_by_month.articles IS 'Articles published that month.';
COMMENT ON COLUMN translation_coverage_by_month.with_translation IS 'Of those, with an English version.';
COMMENT ON COLUMN translation_coverage_by_month.coverage IS '`with_translation / articles`, 0–1.';
COMMENT ON COLUMN translation_coverage_by_month.paragraphs_ko IS 'Korean body paragraphs that month.';
COMMENT ON COLUMN translation_coverage_by_month.paragraphs_en IS 'English body paragraphs that month.';
