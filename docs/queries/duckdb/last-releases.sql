-- A service's last 5 releases: p95 read latency, and its change from the release before
-- (as a fraction: 0.1 is 10% slower). Change the service and the metric to yours.
SELECT "date", version, status, p95, p95 / lag(p95) OVER (ORDER BY "date", certificate) - 1 AS change_vs_previous
FROM (
  SELECT "date", version, status, certificate, metrics['latency_p95_read'] AS p95
  FROM perfcert_index
  WHERE service = 'ingest-api'
)
ORDER BY "date" DESC, certificate DESC
LIMIT 5;
