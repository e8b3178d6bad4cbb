-- valid: the placeable records, typed and normalised (trimmed strings, numbers from strings,
-- lowercase country codes, a stable venue key). One row per raw record.
SELECT
  v.*,
  CASE
    WHEN v.v_name IS NOT NULL OR v.v_address_1 IS NOT NULL OR v.v_city IS NOT NULL OR v.v_lat IS NOT NULL OR v.v_lon IS NOT NULL
    THEN substr(md5(concat_ws('|',
      coalesce(@norm_key(v.v_name), ''),
      coalesce(@norm_key(v.v_address_1), ''),
      coalesce(@norm_key(v.v_city), ''),
      coalesce(v.v_country, ''),
      coalesce(CAST(@coord_e4(v.v_lat) AS STRING), ''),
      coalesce(CAST(@coord_e4(v.v_lon) AS STRING), ''))), 1, 16)
  END AS venue_key
FROM (
  SELECT
    arrival_hour,
    source_key,
    line_no,
    @clean(@at(f, 1)) AS event_id,
    @int(@at(f, 2)) AS mtime,
    @int(@at(f, 3)) AS group_id,
    @clean(@at(f, 4)) AS name,
    @clean(@at(f, 5)) AS event_url,
    lower(@clean(@at(f, 6))) AS status,
    lower(@clean(@at(f, 7))) AS visibility,
    lower(@clean(@at(f, 8))) AS venue_visibility,
    @int(@at(f, 9)) AS time_ms,
    @int(@at(f, 10)) AS utc_offset_ms,
    -- The stream omits duration when it is the default of three hours.
    coalesce(@int(@at(f, 11)), 10800000) AS duration_ms,
    @int32(@at(f, 12)) AS rsvp_limit,
    @int32(@at(f, 13)) AS yes_rsvp_count,
    @int32(@at(f, 14)) AS maybe_rsvp_count,
    @bool(@at(f, 15)) AS payment_required,
    @at(f, 16) AS description_html,
    @clean(@at(f, 17)) AS g_name,
    @clean(@at(f, 18)) AS g_urlname,
    lower(@clean(@at(f, 19))) AS g_join_mode,
    @clean(@at(f, 20)) AS g_city,
    @clean(@at(f, 21)) AS g_state,
    @country(@at(f, 22)) AS g_country,
    @num(@at(f, 23)) AS g_lat,
    @num(@at(f, 24)) AS g_lon,
    @int32(@at(f, 25)) AS category_id,
    @clean(@at(f, 26)) AS c_name,
    @clean(@at(f, 27)) AS c_shortname,
    @clean(@at(f, 28)) AS g_photo_link,
    @clean(@at(f, 29)) AS v_name,
    @clean(@at(f, 30)) AS v_address_1,
    @clean(@at(f, 31)) AS v_address_2,
    @clean(@at(f, 32)) AS v_city,
    @clean(@at(f, 33)) AS v_state,
    @clean(@at(f, 34)) AS v_zip,
    @country(@at(f, 35)) AS v_country,
    @num(@at(f, 36)) AS v_lat,
    @num(@at(f, 37)) AS v_lon,
    @clean(@at(f, 38)) AS v_phone,
    @at(f, 39) AS fee_json,
    @num(@at(f, 40)) AS fee_amount,
    upper(@clean(@at(f, 41))) AS fee_currency,
    @clean(@at(f, 42)) AS fee_description
  FROM records
  WHERE reason IS NULL
) v
