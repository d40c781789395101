-- The parcel page lists every recorded change about one parcel: its own row and the rows that
-- point at it (grants, progress, metrics, green area, findings...) through parcel_id.
CREATE INDEX change_log_parcel_idx ON audit.change_log (((coalesce(new_row, old_row) ->> 'parcel_id')), changed_at);
