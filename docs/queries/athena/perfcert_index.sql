-- The archive's index as an Athena table, `perfcert_index`: one row per certificate, read from
-- the compact JSON lines perfcert writes under s3://BUCKET/PREFIX/index/ (never from the
-- certificates themselves: Athena's JSON SerDes read one record per line, and the Sigstore
-- bundles sit beside the certificates). Replace BUCKET/PREFIX (twice) and the first day of the
-- range. Partition projection: no crawler, no MSCK REPAIR TABLE, nothing to add per day.
--
-- `dt` and `service` are partition columns, from the key: index/dt=YYYY-MM-DD/service=SERVICE/.
-- `service` is the service name with characters other than letters, digits, '.', '_' and '-'
-- replaced by '_', as in the archive's file names; each line's own `service` key (the exact
-- name) is not declared, since the partition column has that name. `service` is injected:
-- every query must say which service(s), `WHERE service = 'ingest-api'` (or IN (...)).
CREATE EXTERNAL TABLE IF NOT EXISTS perfcert_index (
  `index` int,
  `version` string,
  `commit` string,
  `date` string,
  `status` string,
  `method` string,
  `look` int,
  `signature` string,
  `perfcert_version` string,
  `metrics` map<string,double>,
  `baseline` map<string,double>,
  `delta` map<string,double>,
  `metric_status` map<string,string>,
  `units` map<string,string>,
  `failed_metrics` array<string>,
  `inconclusive_metrics` array<string>,
  `waived_metrics` array<string>,
  `cost_per_1000_req` double,
  `certificate` string,
  `certificate_sha256` string
)
PARTITIONED BY (
  `dt` string,
  `service` string
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/PREFIX/index/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.service.type' = 'injected',
  'storage.location.template' = 's3://BUCKET/PREFIX/index/dt=${dt}/service=${service}/'
);
