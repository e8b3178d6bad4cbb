-- quarantine: the records that cannot be placed, byte-for-byte, with the reason.
SELECT
  CAST(source_key AS STRING) AS source_key,
  CAST(line_no AS BIGINT) AS line_no,
  CAST(reason AS STRING) AS reason,
  CAST(raw AS STRING) AS raw,
  arrival_hour
FROM records
WHERE reason IS NOT NULL
