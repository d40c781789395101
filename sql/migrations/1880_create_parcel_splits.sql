-- The split of a parcel (issue #20, surplus land transfer 节余土地转让, 2021 opinions 1.4): the
-- original parcel keeps the retained part, a new parcel is created for the surplus. One row per
-- split, written by land.split_parcel (sql/security/0940_parcel_split.sql) in the same
-- transaction as the two parcels; append-only (the web role may not change or remove a row).
-- docs/casework.md ("The parcel split") describes the rules.
CREATE TABLE land.parcel_splits (
    id                bigserial PRIMARY KEY,
    parcel_id         bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,  -- kept the retained part
    new_parcel_id     bigint NOT NULL UNIQUE REFERENCES land.parcels (id) ON DELETE CASCADE,  -- the surplus
    zone_id           integer NOT NULL REFERENCES land.zones (id),
    -- the surplus land transfer case the split was made in (its parcel_split step)
    case_id           bigint UNIQUE REFERENCES land.cases (id) ON DELETE SET NULL,
    -- the cut as given (a polygon: the surplus; a line: the division), EWKT: a line is no parcel
    -- geometry, and land's geometry columns are polygons (tests/db/test_schema.py)
    cut_ewkt          text NOT NULL,
    cut_kind          text NOT NULL CHECK (cut_kind IN ('polygon', 'line')),
    original_geom     geometry(MultiPolygon, 4490) NOT NULL,
    original_area_m2  double precision NOT NULL CHECK (original_area_m2 > 0),
    retained_area_m2  double precision NOT NULL CHECK (retained_area_m2 > 0),
    surplus_area_m2   double precision NOT NULL CHECK (surplus_area_m2 > 0),
    split_on          date NOT NULL,
    reason            text NOT NULL CHECK (length(btrim(reason)) > 0),
    done_by           text NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text NOT NULL DEFAULT current_user,
    CHECK (new_parcel_id <> parcel_id),
    CONSTRAINT parcel_splits_split_on_not_future CHECK (split_on <= (now() AT TIME ZONE 'Asia/Shanghai')::date),
    CONSTRAINT parcel_splits_original_area_m2_finite
        CHECK (original_area_m2 > '-Infinity' AND original_area_m2 < 'Infinity'),
    CONSTRAINT parcel_splits_retained_area_m2_finite
        CHECK (retained_area_m2 > '-Infinity' AND retained_area_m2 < 'Infinity'),
    CONSTRAINT parcel_splits_surplus_area_m2_finite
        CHECK (surplus_area_m2 > '-Infinity' AND surplus_area_m2 < 'Infinity')
);
CREATE INDEX parcel_splits_parcel_idx ON land.parcel_splits (parcel_id);
CREATE INDEX parcel_splits_original_geom_gix ON land.parcel_splits USING gist (original_geom);
