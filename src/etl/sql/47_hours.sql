-- hours: one row per processed hour (input relation etl_hours: arrival_hour), empty hours included.
SELECT
  CAST(coalesce(c.raw_records, 0) AS BIGINT) AS raw_records,
  CAST(coalesce(c.valid_records, 0) AS BIGINT) AS valid_records,
  CAST(coalesce(c.quarantined, 0) AS BIGINT) AS quarantined,
  @ts_literal(${processed_at}) AS processed_at,
  h.arrival_hour AS arrival_hour
FROM etl_hours h
LEFT JOIN (
  SELECT
    arrival_hour,
    count(*) AS raw_records,
    sum(CASE WHEN reason IS NULL THEN 1 ELSE 0 END) AS valid_records,
    sum(CASE WHEN reason IS NULL THEN 0 ELSE 1 END) AS quarantined
  FROM records
  GROUP BY arrival_hour
) c ON c.arrival_hour = h.arrival_hour
