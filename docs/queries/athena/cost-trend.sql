-- Cost per 1000 requests, release by release: the value, its change from the release before, and
-- the average of the last 5 releases (the trend).
SELECT "date", version, cost_per_1000_req,
       cost_per_1000_req / lag(cost_per_1000_req) OVER (ORDER BY "date", certificate) - 1 AS change_vs_previous,
       avg(cost_per_1000_req) OVER (ORDER BY "date", certificate ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)
         AS average_of_last_5
FROM perfcert_index
WHERE service = 'ingest-api' AND cost_per_1000_req IS NOT NULL
ORDER BY "date", certificate;
