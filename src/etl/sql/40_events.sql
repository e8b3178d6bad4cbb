-- events: per arrival hour, the hour's newest version of each event (the current-state view
-- keeps the newest over all hours).
SELECT
  CAST(event_id AS STRING) AS event_id,
  CAST(name AS STRING) AS name,
  CAST(event_url AS STRING) AS event_url,
  CAST(status AS STRING) AS status,
  CAST(visibility AS STRING) AS visibility,
  CAST(venue_visibility AS STRING) AS venue_visibility,
  @ts_from_ms(time_ms) AS time_utc,
  @ts_from_ms(time_ms + utc_offset_ms) AS time_local,
  CAST(utc_offset_ms AS BIGINT) AS utc_offset_ms,
  CAST(duration_ms AS BIGINT) AS duration_ms,
  CAST(rsvp_limit AS INTEGER) AS rsvp_limit,
  CAST(yes_rsvp_count AS INTEGER) AS yes_rsvp_count,
  CAST(maybe_rsvp_count AS INTEGER) AS maybe_rsvp_count,
  CAST(payment_required AS BOOLEAN) AS payment_required,
  CAST(description_html AS STRING) AS description_html,
  CAST(@html_text(description_html) AS STRING) AS description_text,
  CAST(group_id AS BIGINT) AS group_id,
  CAST(venue_key AS STRING) AS venue_key,
  CAST(mtime AS BIGINT) AS mtime,
  arrival_hour
FROM latest
