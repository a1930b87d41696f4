-- How often each metric passed and failed over the last 30 days, across a service's certificates.
SELECT m.metric,
       count_if(m.status = 'PASS') AS passed,
       count_if(m.status = 'FAIL') AS failed,
       count_if(m.status = 'INCONCLUSIVE') AS inconclusive,
       count_if(m.status = 'WAIVED') AS waived,
       count(*) AS certificates
FROM perfcert_index
CROSS JOIN UNNEST(metric_status) AS m (metric, status)
WHERE service = 'ingest-api' AND dt >= CAST(current_date - INTERVAL '30' DAY AS varchar)
GROUP BY m.metric
ORDER BY m.metric;
