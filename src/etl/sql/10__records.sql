-- records: every raw record of the batch (input relation raw_records: arrival_hour, source_key,
-- line_no, raw), its fields as JSON text in a list, and why it cannot be placed (NULL when it can).
-- Field positions in f are referenced by number in 20__valid.sql; keep the two in step.
SELECT
  arrival_hour,
  source_key,
  line_no,
  raw,
  CASE
    WHEN f IS NULL THEN 'invalid_json'
    WHEN @clean(@at(f, 1)) IS NULL THEN 'missing_id'
    WHEN @int(@at(f, 2)) IS NULL THEN 'missing_mtime'
    WHEN @int(@at(f, 3)) IS NULL THEN 'missing_group'
  END AS reason,
  f
FROM (
  SELECT
    arrival_hour,
    source_key,
    line_no,
    raw,
    CASE
      -- A record is one JSON object; anything else (header lines, cut-off lines, arrays) is rejected.
      WHEN left(ltrim(raw), 1) = '{' AND right(rtrim(raw), 1) = '}' AND @json_valid(raw) THEN @json_strings(raw,
        '$.id', '$.mtime', '$.group.id', '$.name', '$.event_url', '$.status', '$.visibility', '$.venue_visibility',
        '$.time', '$.utc_offset', '$.duration', '$.rsvp_limit', '$.yes_rsvp_count', '$.maybe_rsvp_count',
        '$.payment_required', '$.description',
        '$.group.name', '$.group.urlname', '$.group.join_mode', '$.group.city', '$.group.state', '$.group.country',
        '$.group.group_lat', '$.group.group_lon', '$.group.category.id', '$.group.category.name',
        '$.group.category.shortname', '$.group.group_photo.photo_link',
        '$.venue.name', '$.venue.address_1', '$.venue.address_2', '$.venue.city', '$.venue.state', '$.venue.zip',
        '$.venue.country', '$.venue.lat', '$.venue.lon', '$.venue.phone',
        '$.fee', '$.fee.amount', '$.fee.currency', '$.fee.description')
    END AS f
  FROM raw_records
) r
