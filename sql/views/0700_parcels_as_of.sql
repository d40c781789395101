-- The parcels as recorded at the end of a day, read from the audit history (audit.change_log) in
-- one set-based query: the parcels layer as of a date (layers.parcels_as_of, which
-- gisapp.api.read_layer("parcels", as_of=...) and exports read) and one parcel on the parcel page
-- (gisapp.queries.parcel_record.parcel_as_of) use this one definition.
--
-- A parcel's state at the end of day `on_day` (UTC, as the parcel page reads it):
--   absent   its first recorded change after that day is its INSERT (created later), or it was
--            deleted before (then it is in neither the table nor a later change);
--   audit    the old values of its first recorded change after that day;
--   current  today's row: nothing changed since;
--   history  row-level recording began for it after that day (a bulk load writes one BULK_LOAD
--            entry, not a row per parcel): only its status is known, from the status history's
--            business dates (history_status, history_status_since; status_before is the status
--            its first change after that day started from). old_row is then the earliest
--            recorded state, when a change was recorded since.
-- Re-applied on every migrate (idempotent). An inlinable SQL function: a call for a few parcels
-- (parcel_ids) uses the indexes; a call for all (NULL) hash-joins the whole history once.

DROP VIEW IF EXISTS layers.parcels_as_of;
DROP FUNCTION IF EXISTS audit.parcel_states(date, bigint[]);

CREATE FUNCTION audit.parcel_states(on_day date, parcel_ids bigint[] DEFAULT NULL)
RETURNS TABLE (parcel_id bigint, source text, old_row jsonb, history_status text, history_status_since date,
               status_before text, recorded_since timestamptz)
LANGUAGE sql STABLE AS $$
SELECT s.parcel_id, s.source, s.old_row, h.to_status, h.changed_on, f.from_status, s.recorded_since
FROM (
    SELECT ids.parcel_id, l.old_row, least(i.inserted_at, b.bulk_at) AS recorded_since,
           CASE WHEN l.action = 'INSERT' THEN 'absent'
                WHEN least(i.inserted_at, b.bulk_at) >= b.day_end THEN 'history'
                WHEN l.action IS NULL THEN 'current'
                ELSE 'audit' END AS source
    FROM (
        -- today's parcels, and those deleted after the day (their DELETE is recorded after it)
        SELECT p.id AS parcel_id FROM land.parcels p
        WHERE parcel_ids IS NULL OR p.id = ANY (parcel_ids)
        UNION ALL
        SELECT DISTINCT CAST(c.row_id AS bigint) FROM audit.change_log c
        WHERE c.table_schema = 'land' AND c.table_name = 'parcels' AND c.action = 'DELETE'
          AND c.changed_at >= CAST(on_day + 1 AS timestamp) AT TIME ZONE 'UTC'
          AND (parcel_ids IS NULL OR c.row_id = ANY (CAST(parcel_ids AS text[])))
          AND NOT EXISTS (SELECT 1 FROM land.parcels p WHERE p.id = CAST(c.row_id AS bigint))
    ) ids
    CROSS JOIN (
        SELECT CAST(on_day + 1 AS timestamp) AT TIME ZONE 'UTC' AS day_end,
               (SELECT min(c.changed_at) FROM audit.change_log c
                WHERE c.table_schema = 'land' AND c.table_name = 'parcels' AND c.row_id = '*'
                  AND c.action = 'BULK_LOAD') AS bulk_at
    ) b
    LEFT JOIN (
        SELECT DISTINCT ON (c.row_id) CAST(c.row_id AS bigint) AS parcel_id, c.action, c.old_row
        FROM audit.change_log c
        WHERE c.table_schema = 'land' AND c.table_name = 'parcels' AND c.row_id <> '*'
          AND c.changed_at >= CAST(on_day + 1 AS timestamp) AT TIME ZONE 'UTC'
          AND (parcel_ids IS NULL OR c.row_id = ANY (CAST(parcel_ids AS text[])))
        ORDER BY c.row_id, c.changed_at, c.id
    ) l ON l.parcel_id = ids.parcel_id
    LEFT JOIN (
        SELECT CAST(c.row_id AS bigint) AS parcel_id, min(c.changed_at) AS inserted_at
        FROM audit.change_log c
        WHERE c.table_schema = 'land' AND c.table_name = 'parcels' AND c.action = 'INSERT'
          AND (parcel_ids IS NULL OR c.row_id = ANY (CAST(parcel_ids AS text[])))
        GROUP BY c.row_id
    ) i ON i.parcel_id = ids.parcel_id
) s
-- The status history is read only when some parcel's state must come from it: a day before the
-- first bulk load (otherwise every parcel's recording began by then; see 'history' above).
LEFT JOIN (
    SELECT DISTINCT ON (sh.parcel_id) sh.parcel_id, sh.to_status, sh.changed_on
    FROM land.parcel_status_history sh
    WHERE sh.changed_on <= on_day AND (parcel_ids IS NULL OR sh.parcel_id = ANY (parcel_ids))
      AND (SELECT min(c.changed_at) FROM audit.change_log c
           WHERE c.table_schema = 'land' AND c.table_name = 'parcels' AND c.row_id = '*'
             AND c.action = 'BULK_LOAD') >= CAST(on_day + 1 AS timestamp) AT TIME ZONE 'UTC'
    ORDER BY sh.parcel_id, sh.changed_on DESC, sh.id DESC
) h ON s.source = 'history' AND h.parcel_id = s.parcel_id
LEFT JOIN (
    SELECT DISTINCT ON (sh.parcel_id) sh.parcel_id, sh.from_status
    FROM land.parcel_status_history sh
    WHERE sh.changed_on > on_day AND (parcel_ids IS NULL OR sh.parcel_id = ANY (parcel_ids))
      AND (SELECT min(c.changed_at) FROM audit.change_log c
           WHERE c.table_schema = 'land' AND c.table_name = 'parcels' AND c.row_id = '*'
             AND c.action = 'BULK_LOAD') >= CAST(on_day + 1 AS timestamp) AT TIME ZONE 'UTC'
    ORDER BY sh.parcel_id, sh.changed_on, sh.id
) f ON s.source = 'history' AND f.parcel_id = s.parcel_id
$$;

COMMENT ON FUNCTION audit.parcel_states(date, bigint[]) IS
    'Each parcel as recorded at the end of on_day (UTC), from audit.change_log; see sql/views/0700.';

-- The parcels layer as of gisapp_meta.as_of() (the transaction's gisapp.as_of): the columns of
-- layers.parcels, with the values the parcel had that day (names of zones, codes and enterprises
-- as they are now). Parcels known only from the status history show their earliest recorded
-- state with the status of that day.
CREATE VIEW layers.parcels_as_of AS
SELECT b.id,
       b.code,
       z.code               AS zone_code,
       z.name_zh            AS zone_name_zh,
       z.name_en            AS zone_name_en,
       b.land_use_code,
       lu.name_zh           AS land_use_zh,
       lu.name_en           AS land_use_en,
       lu.category          AS land_use_category,
       st.code              AS status,
       st.name_zh           AS status_zh,
       st.name_en           AS status_en,
       b.status_since,
       round(b.area_m2::numeric, 1) AS area_m2,
       e.name_zh            AS enterprise_zh,
       e.name_en            AS enterprise_en,
       b.version,
       b.is_synthetic,
       b.geom
FROM audit.parcel_states(gisapp_meta.as_of()) s
LEFT JOIN land.parcels cur ON s.old_row IS NULL AND cur.id = s.parcel_id
LEFT JOIN LATERAL jsonb_populate_record(NULL::land.parcels, s.old_row) old ON true
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.old_row IS NULL THEN cur.id ELSE old.id END AS id,
           CASE WHEN s.old_row IS NULL THEN cur.code ELSE old.code END AS code,
           CASE WHEN s.old_row IS NULL THEN cur.zone_id ELSE old.zone_id END AS zone_id,
           CASE WHEN s.old_row IS NULL THEN cur.land_use_code ELSE old.land_use_code END AS land_use_code,
           CASE WHEN s.source = 'history' AND (s.history_status IS NOT NULL OR s.status_before IS NOT NULL)
                THEN coalesce(s.history_status, s.status_before)
                WHEN s.old_row IS NULL THEN cur.status ELSE old.status END AS status,
           CASE WHEN s.source = 'history' AND (s.history_status IS NOT NULL OR s.status_before IS NOT NULL)
                THEN s.history_status_since
                WHEN s.old_row IS NULL THEN cur.status_since ELSE old.status_since END AS status_since,
           CASE WHEN s.old_row IS NULL THEN cur.area_m2 ELSE old.area_m2 END AS area_m2,
           CASE WHEN s.old_row IS NULL THEN cur.enterprise_id ELSE old.enterprise_id END AS enterprise_id,
           CASE WHEN s.old_row IS NULL THEN cur.version ELSE old.version END AS version,
           CASE WHEN s.old_row IS NULL THEN cur.is_synthetic ELSE old.is_synthetic END AS is_synthetic,
           CASE WHEN s.old_row IS NULL THEN cur.geom ELSE old.geom END AS geom
) b
JOIN land.zones z ON z.id = b.zone_id
JOIN land.land_use_codes lu ON lu.code = b.land_use_code
JOIN land.parcel_statuses st ON st.code = b.status
LEFT JOIN land.enterprises e ON e.id = b.enterprise_id
WHERE s.source <> 'absent';
