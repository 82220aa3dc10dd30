CREATE OR REPLACE VIEW pair_quality_by_month AS
WITH translated AS (
    SELECT
        article_id,
        CAST(date_trunc('month', timezone('Asia/Seoul', published_at)) AS DATE) AS month,
        paragraphs_ko
    FROM articles
    WHERE has_translation AND published_at IS NOT NULL
),
months AS (
    SELECT month, count(*) AS articles, CAST(sum(paragraphs_ko) AS BIGINT) AS paragraphs_ko
    FROM translated
    GROUP BY month
),
body_pairs AS (
    SELECT
        t.month,
        count(*) AS pairs,
        round(avg(p.score), 4) AS mean_score,
        round(median(p.score), 4) AS median_score,
        count(*) FILTER (WHERE p.score < 0.6) AS low_score_pairs,
        count(*) FILTER (WHERE p.bead <> '1-1') AS merged_pairs,
        CAST(sum(p.ko_last - p.ko_first + 1) AS BIGINT) AS ko_paired
    FROM paragraph_pairs p
    JOIN translated t USING (article_id)
    WHERE p.kind = 'body'
    GROUP BY t.month
)
SELECT
    m.month,
    m.articles,
    coalesce(b.pairs, 0) AS pairs,
    b.mean_score,
    b.median_score,
    coalesce(b.low_score_pairs, 0) AS low_score_pairs,
    coalesce(b.merged_pairs, 0) AS merged_pairs,
    m.paragraphs_ko - coalesce(b.ko_paired, 0) AS unpaired_ko
FROM months m
LEFT JOIN body_pairs b USING (month);

-- What the view and its columns mean, in DuckDB's catalog (CREATE OR REPLACE drops it: it follows here).
COMMENT ON VIEW pair_quality_by_month IS 'How well each month''s translated articles align: body pairs (captions and titles left out), their scores, merges, and Korean paragraphs the aligner left without an English counterpart.';
COMMENT ON COLUMN pair_quality_by_month.month IS 'First day of the month (Korea time).';
COMMENT ON COLUMN pair_quality_by_month.articles IS 'Translated articles published that month.';
COMMENT ON COLUMN pair_quality_by_month.pairs IS 'Body pairs.';
COMMENT ON COLUMN pair_quality_by_month.mean_score IS 'Mean pair `score`.';
COMMENT ON COLUMN pair_quality_by_month.median_score IS 'Median pair `score`.';
COMMENT ON COLUMN pair_quality_by_month.low_score_pairs IS 'Pairs scoring below 0.6.';
COMMENT ON COLUMN pair_quality_by_month.merged_pairs IS 'Pairs that are not `1-1` (a merge or a split).';
COMMENT ON COLUMN pair_quality_by_month.unpaired_ko IS 'Korean body paragraphs no pair covers.';
