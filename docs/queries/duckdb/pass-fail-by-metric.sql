-- How often each metric passed and failed over the last 30 days, across a service's certificates.
SELECT metric,
       count(*) FILTER (WHERE status = 'PASS') AS passed,
       count(*) FILTER (WHERE status = 'FAIL') AS failed,
       count(*) FILTER (WHERE status = 'INCONCLUSIVE') AS inconclusive,
       count(*) FILTER (WHERE status = 'WAIVED') AS waived,
       count(*) AS certificates
FROM (
  SELECT unnest(map_keys(metric_status)) AS metric, unnest(map_values(metric_status)) AS status
  FROM perfcert_index
  WHERE service = 'ingest-api' AND dt >= current_date - INTERVAL 30 DAY
)
GROUP BY metric
ORDER BY metric;
