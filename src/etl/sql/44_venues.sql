-- venues: per arrival hour, the newest attributes of each venue key (state, zip, phone and
-- address_2 are not part of the key and may change).
SELECT
  CAST(venue_key AS STRING) AS venue_key,
  CAST(v_name AS STRING) AS name,
  CAST(v_address_1 AS STRING) AS address_1,
  CAST(v_address_2 AS STRING) AS address_2,
  CAST(v_city AS STRING) AS city,
  CAST(v_state AS STRING) AS state,
  CAST(v_zip AS STRING) AS zip,
  CAST(v_country AS STRING) AS country,
  CAST(v_lat AS DOUBLE) AS lat,
  CAST(v_lon AS DOUBLE) AS lon,
  CAST(v_phone AS STRING) AS phone,
  CAST(mtime AS BIGINT) AS mtime,
  arrival_hour
FROM (
  SELECT v.*, row_number() OVER (PARTITION BY arrival_hour, venue_key ORDER BY mtime DESC, source_key DESC, line_no DESC) AS rn
  FROM valid v
  WHERE venue_key IS NOT NULL
) t
WHERE rn = 1
