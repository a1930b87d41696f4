-- The archive's index as a DuckDB view, `perfcert_index`: the same columns as the Athena table
-- (docs/queries/athena/perfcert_index.sql), one row per certificate. Set the archive first:
--   SET VARIABLE archive = 's3://perf-certs/ingest';   -- or a local directory: 'perf/certificates'
-- `dt` (DATE) and `service` come from the partition directories, index/dt=DAY/service=SERVICE/;
-- `service` is the service name with characters other than letters, digits, '.', '_' and '-'
-- replaced by '_', as in the archive's file names.
CREATE OR REPLACE VIEW perfcert_index AS
SELECT *
FROM read_json(
  getvariable('archive') || '/index/*/*/*.json',
  format = 'newline_delimited',
  hive_partitioning = true,
  hive_types = {'dt': 'DATE', 'service': 'VARCHAR'},
  columns = {
    'index': 'INTEGER',
    'version': 'VARCHAR',
    'commit': 'VARCHAR',
    'date': 'VARCHAR',
    'status': 'VARCHAR',
    'method': 'VARCHAR',
    'look': 'INTEGER',
    'signature': 'VARCHAR',
    'perfcert_version': 'VARCHAR',
    'metrics': 'MAP(VARCHAR, DOUBLE)',
    'baseline': 'MAP(VARCHAR, DOUBLE)',
    'delta': 'MAP(VARCHAR, DOUBLE)',
    'metric_status': 'MAP(VARCHAR, VARCHAR)',
    'units': 'MAP(VARCHAR, VARCHAR)',
    'failed_metrics': 'VARCHAR[]',
    'inconclusive_metrics': 'VARCHAR[]',
    'waived_metrics': 'VARCHAR[]',
    'cost_per_1000_req': 'DOUBLE',
    'certificate': 'VARCHAR',
    'certificate_sha256': 'VARCHAR'
  }
);
