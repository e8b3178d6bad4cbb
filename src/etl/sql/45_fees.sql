-- fees: the fee of each event's newest version in the hour (the view keeps the current version's).
SELECT
  CAST(event_id AS STRING) AS event_id,
  CAST(fee_amount AS DOUBLE) AS amount,
  CAST(fee_currency AS STRING) AS currency,
  CAST(fee_description AS STRING) AS description,
  CAST(mtime AS BIGINT) AS mtime,
  arrival_hour
FROM latest
WHERE fee_json IS NOT NULL
