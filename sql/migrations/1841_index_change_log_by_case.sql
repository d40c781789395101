-- A case's page shows its audit trail: the changes of the case and of every row that carries its
-- id (steps, money, documents, extensions, files; gisapp/casework/page_data.py), found by this
-- index as a parcel's changes are by change_log_parcel_idx.
CREATE INDEX change_log_case_idx ON audit.change_log ((coalesce(new_row, old_row) ->> 'case_id'), changed_at);
