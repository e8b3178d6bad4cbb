-- event_changes: one row per (event, mtime) seen in the hour, the later arrival winning a tie.
SELECT
  CAST(event_id AS STRING) AS event_id,
  CAST(mtime AS BIGINT) AS mtime,
  CAST(status AS STRING) AS status,
  CAST(yes_rsvp_count AS INTEGER) AS yes_rsvp_count,
  CAST(maybe_rsvp_count AS INTEGER) AS maybe_rsvp_count,
  CAST(rsvp_limit AS INTEGER) AS rsvp_limit,
  arrival_hour
FROM (
  SELECT v.*, row_number() OVER (PARTITION BY arrival_hour, event_id, mtime ORDER BY source_key DESC, line_no DESC) AS rn
  FROM valid v
) t
WHERE rn = 1
