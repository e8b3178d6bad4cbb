-- latest: the newest version of each event within its arrival hour. Ties on mtime go to the
-- later arrival (source object, then record number), so the choice is deterministic.
SELECT *
FROM (
  SELECT v.*, row_number() OVER (PARTITION BY arrival_hour, event_id ORDER BY mtime DESC, source_key DESC, line_no DESC) AS rn
  FROM valid v
) t
WHERE rn = 1
