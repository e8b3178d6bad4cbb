-- categories: per arrival hour, the newest name of each category id.
SELECT
  CAST(category_id AS INTEGER) AS category_id,
  CAST(c_name AS STRING) AS name,
  CAST(c_shortname AS STRING) AS shortname,
  CAST(mtime AS BIGINT) AS mtime,
  arrival_hour
FROM (
  SELECT v.*, row_number() OVER (PARTITION BY arrival_hour, category_id ORDER BY mtime DESC, source_key DESC, line_no DESC) AS rn
  FROM valid v
  WHERE category_id IS NOT NULL
) t
WHERE rn = 1
