-- Districts, zones with versioned approved boundaries, parcels and their status history.
-- Editable tables carry version / updated_at / updated_by (kept by triggers in sql/security).

CREATE TABLE land.districts (
    id          serial PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9_]+$'),
    name_zh     text NOT NULL,
    name_en     text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT current_user
);

CREATE TABLE land.zones (
    id                    serial PRIMARY KEY,
    code                  text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9_]+$'),
    name_zh               text NOT NULL,
    name_en               text NOT NULL,
    district_id           integer NOT NULL REFERENCES land.districts (id),
    kind                  text NOT NULL DEFAULT 'comprehensive_bonded_zone'
                          CHECK (kind IN ('comprehensive_bonded_zone', 'special_comprehensive_bonded_zone',
                                          'free_trade_zone', 'benchmark')),
    approved_on           date,
    approved_area_m2      double precision CHECK (approved_area_m2 > 0),
    -- true where no official figure was found and the area is a demo value (domain §3)
    approved_area_is_demo boolean NOT NULL DEFAULT false,
    region                text NOT NULL DEFAULT 'east' CHECK (region IN ('east', 'central_west')),
    is_synthetic          boolean NOT NULL DEFAULT false,
    note                  text,
    version               integer NOT NULL DEFAULT 1,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            text NOT NULL DEFAULT current_user
);

-- The State-Council-approved boundary (四至范围), versioned: one in force per zone and day.
CREATE TABLE land.zone_boundaries (
    id            serial PRIMARY KEY,
    zone_id       integer NOT NULL REFERENCES land.zones (id) ON DELETE CASCADE,
    valid_from    date NOT NULL,
    valid_to      date,
    approval_ref  text,
    geom          geometry(MultiPolygon, 4490) NOT NULL CHECK (ST_IsValid(geom)),
    area_m2       double precision GENERATED ALWAYS AS (ST_Area(geom::geography)) STORED,
    source_crs    text NOT NULL DEFAULT 'EPSG:4490',
    is_synthetic  boolean NOT NULL DEFAULT false,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT current_user,
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    EXCLUDE USING gist (zone_id WITH =, daterange(valid_from, valid_to) WITH &&)
);
CREATE INDEX zone_boundaries_geom_gix ON land.zone_boundaries USING gist (geom);

CREATE TABLE land.enterprises (
    id            serial PRIMARY KEY,
    credit_code   text UNIQUE,             -- 统一社会信用代码
    name_zh       text NOT NULL,
    name_en       text,
    industry      text,
    size_class    text NOT NULL DEFAULT 'regular' CHECK (size_class IN ('regular', 'small')),
    established_on date,
    is_synthetic  boolean NOT NULL DEFAULT false,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT current_user
);

CREATE TABLE land.parcels (
    id                   bigserial PRIMARY KEY,
    code                 text NOT NULL UNIQUE,
    zone_id              integer NOT NULL REFERENCES land.zones (id),
    geom                 geometry(MultiPolygon, 4490) NOT NULL CHECK (ST_IsValid(geom)),
    -- on the ellipsoid, never in degrees
    area_m2              double precision GENERATED ALWAYS AS (ST_Area(geom::geography)) STORED,
    land_use_code        text NOT NULL REFERENCES land.land_use_codes (code),
    legacy_land_use_code text REFERENCES land.legacy_land_use_codes (legacy_code),
    status               text NOT NULL REFERENCES land.parcel_statuses (code),
    status_since         date,
    enterprise_id        integer REFERENCES land.enterprises (id),
    -- planning controls and the built state (for plot ratio, coverage, office share)
    plot_ratio_min       numeric(6, 2) CHECK (plot_ratio_min >= 0),
    plot_ratio_max       numeric(6, 2) CHECK (plot_ratio_max >= 0),
    floor_area_m2        double precision CHECK (floor_area_m2 >= 0),
    building_footprint_m2 double precision CHECK (building_footprint_m2 >= 0),
    office_living_area_m2 double precision CHECK (office_living_area_m2 >= 0),
    source_crs           text NOT NULL DEFAULT 'EPSG:4490',
    is_synthetic         boolean NOT NULL DEFAULT false,
    version              integer NOT NULL DEFAULT 1,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           text NOT NULL DEFAULT current_user,
    CHECK (plot_ratio_min IS NULL OR plot_ratio_max IS NULL OR plot_ratio_min <= plot_ratio_max)
);
CREATE INDEX parcels_geom_gix ON land.parcels USING gist (geom);
CREATE INDEX parcels_zone_idx ON land.parcels (zone_id);
CREATE INDEX parcels_status_idx ON land.parcels (status);
CREATE INDEX parcels_enterprise_idx ON land.parcels (enterprise_id);

CREATE TABLE land.parcel_status_history (
    id           bigserial PRIMARY KEY,
    parcel_id    bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    from_status  text REFERENCES land.parcel_statuses (code),
    to_status    text NOT NULL REFERENCES land.parcel_statuses (code),
    changed_on   date NOT NULL,
    reason       text NOT NULL CHECK (length(btrim(reason)) > 0),
    note         text,
    changed_by   text NOT NULL DEFAULT current_user,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parcel_status_history_parcel_idx ON land.parcel_status_history (parcel_id, changed_on);
