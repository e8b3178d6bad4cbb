-- groups: per arrival hour, the newest snapshot of each group (by the mtime of the event carrying it).
SELECT
  CAST(group_id AS BIGINT) AS group_id,
  CAST(g_name AS STRING) AS name,
  CAST(g_urlname AS STRING) AS urlname,
  CAST(g_join_mode AS STRING) AS join_mode,
  CAST(g_city AS STRING) AS city,
  CAST(g_state AS STRING) AS state,
  CAST(g_country AS STRING) AS country,
  CAST(g_lat AS DOUBLE) AS lat,
  CAST(g_lon AS DOUBLE) AS lon,
  CAST(category_id AS INTEGER) AS category_id,
  CAST(g_photo_link AS STRING) AS photo_link,
  CAST(mtime AS BIGINT) AS mtime,
  arrival_hour
FROM (
  SELECT v.*, row_number() OVER (PARTITION BY arrival_hour, group_id ORDER BY mtime DESC, source_key DESC, line_no DESC) AS rn
  FROM valid v
) t
WHERE rn = 1
