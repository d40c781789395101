-- Land grants with their performance requirements and reviews, construction progress,
-- suspensions and exemptions (idle land), enterprise annual metrics (per-mu evaluation),
-- mixed-use components and pilots, green areas.

CREATE TABLE land.land_grants (
    id                    serial PRIMARY KEY,
    parcel_id             bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    enterprise_id         integer REFERENCES land.enterprises (id),
    contract_no           text NOT NULL UNIQUE,
    supply_method         text NOT NULL DEFAULT 'grant'
                          CHECK (supply_method IN ('grant', 'allocation', 'lease')),  -- 出让 / 划拨 / 租赁
    announced_on          date,            -- pre-announcement of the conditions (标准地 published in advance)
    granted_on            date NOT NULL,   -- contract signed / allocation decided
    delivery_due_on       date,
    delivered_on          date,
    agreed_start_on       date,            -- 约定动工开发日期
    agreed_completion_on  date,
    term_years            smallint CHECK (term_years BETWEEN 1 AND 70),
    price_wan             numeric(14, 2) CHECK (price_wan >= 0),             -- 万元
    total_investment_wan  numeric(14, 2) CHECK (total_investment_wan >= 0),  -- 万元
    is_standardized       boolean NOT NULL DEFAULT false,
    is_major_project      boolean NOT NULL DEFAULT false,
    industry              text,
    is_synthetic          boolean NOT NULL DEFAULT false,
    version               integer NOT NULL DEFAULT 1,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            text NOT NULL DEFAULT current_user,
    CHECK (announced_on IS NULL OR announced_on <= granted_on),
    CHECK (agreed_completion_on IS NULL OR agreed_start_on IS NULL OR agreed_completion_on >= agreed_start_on)
);
CREATE INDEX land_grants_parcel_idx ON land.land_grants (parcel_id);

CREATE TABLE land.grant_requirements (
    id            serial PRIMARY KEY,
    grant_id      integer NOT NULL REFERENCES land.land_grants (id) ON DELETE CASCADE,
    indicator     text NOT NULL REFERENCES land.performance_indicators (code),
    review_stage  text NOT NULL DEFAULT 'acceptance'
                  CHECK (review_stage IN ('acceptance', 'production', 'periodic')),
    min_value     numeric(14, 4),
    max_value     numeric(14, 4),
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT current_user,
    UNIQUE (grant_id, indicator, review_stage),
    CHECK (min_value IS NOT NULL OR max_value IS NOT NULL),
    CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value)
);

CREATE TABLE land.grant_reviews (
    id            serial PRIMARY KEY,
    grant_id      integer NOT NULL REFERENCES land.land_grants (id) ON DELETE CASCADE,
    review_stage  text NOT NULL CHECK (review_stage IN ('acceptance', 'production', 'periodic')),
    reviewed_on   date NOT NULL,
    indicator     text NOT NULL REFERENCES land.performance_indicators (code),
    actual_value  numeric(14, 4) NOT NULL,
    note          text,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT current_user,
    UNIQUE (grant_id, review_stage, reviewed_on, indicator)
);

-- Progress snapshots as reported by the zone office; the latest before a date is in force.
CREATE TABLE land.construction_progress (
    id                     serial PRIMARY KEY,
    parcel_id              bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    reported_on            date NOT NULL,
    started_on             date,             -- actual start of development (动工)
    should_develop_area_m2 double precision CHECK (should_develop_area_m2 > 0),  -- 应动工开发建设总面积
    developed_area_m2      double precision CHECK (developed_area_m2 >= 0),      -- 已动工开发建设面积
    invested_wan           numeric(14, 2) CHECK (invested_wan >= 0),             -- 已投资额
    total_investment_wan   numeric(14, 2) CHECK (total_investment_wan > 0),      -- 总投资额
    completed_on           date,
    accepted_on            date,             -- 竣工验收
    version                integer NOT NULL DEFAULT 1,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    updated_by             text NOT NULL DEFAULT current_user,
    UNIQUE (parcel_id, reported_on),
    CHECK (completed_on IS NULL OR started_on IS NULL OR completed_on >= started_on),
    CHECK (accepted_on IS NULL OR completed_on IS NULL OR accepted_on >= completed_on)
);

-- Periods in which development stood still (中止开发建设).
CREATE TABLE land.construction_suspensions (
    id              serial PRIMARY KEY,
    parcel_id       bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    suspended_from  date NOT NULL,
    resumed_on      date,
    note            text,
    version         integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT current_user,
    CHECK (resumed_on IS NULL OR resumed_on > suspended_from)
);
CREATE INDEX construction_suspensions_parcel_idx ON land.construction_suspensions (parcel_id);

CREATE TABLE land.idle_exemptions (
    id            serial PRIMARY KEY,
    parcel_id     bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    reason_code   text NOT NULL REFERENCES land.idle_exemption_reasons (code),
    from_on       date NOT NULL,
    to_on         date,
    note          text,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT current_user,
    CHECK (to_on IS NULL OR to_on >= from_on)
);

CREATE TABLE land.enterprise_metrics (
    id               serial PRIMARY KEY,
    parcel_id        bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    enterprise_id    integer NOT NULL REFERENCES land.enterprises (id),
    year             smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    -- firms under construction or just started are not graded (per-mu practice)
    grading_category text NOT NULL DEFAULT 'regular'
                     CHECK (grading_category IN ('regular', 'small', 'startup', 'under_construction')),
    revenue_wan      numeric(14, 2) CHECK (revenue_wan >= 0),
    tax_wan          numeric(14, 2) CHECK (tax_wan >= 0),
    value_added_wan  numeric(14, 2),
    energy_tce       numeric(14, 3) CHECK (energy_tce >= 0),
    electricity_kwh  numeric(16, 1) CHECK (electricity_kwh >= 0),
    emissions_t      numeric(14, 3) CHECK (emissions_t >= 0),  -- major pollutants, equivalent tonnes
    employees        integer CHECK (employees >= 0),
    rd_spend_wan     numeric(14, 2) CHECK (rd_spend_wan >= 0),
    version          integer NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text NOT NULL DEFAULT current_user,
    UNIQUE (parcel_id, enterprise_id, year)
);

CREATE TABLE land.mixed_use_pilots (
    id           serial PRIMARY KEY,
    parcel_id    bigint NOT NULL UNIQUE REFERENCES land.parcels (id) ON DELETE CASCADE,
    approved_on  date NOT NULL,
    pilot_ref    text,
    note         text,
    version      integer NOT NULL DEFAULT 1,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL DEFAULT current_user
);

CREATE TABLE land.mixed_use_components (
    id             serial PRIMARY KEY,
    parcel_id      bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    land_use_code  text NOT NULL REFERENCES land.land_use_codes (code),
    floor_share_pct numeric(5, 2) NOT NULL CHECK (floor_share_pct > 0 AND floor_share_pct <= 100),
    floor_area_m2  double precision CHECK (floor_area_m2 >= 0),
    version        integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT current_user,
    UNIQUE (parcel_id, land_use_code)
);

CREATE TABLE land.green_areas (
    id            serial PRIMARY KEY,
    parcel_id     bigint NOT NULL REFERENCES land.parcels (id) ON DELETE CASCADE,
    measured_on   date NOT NULL,
    green_area_m2 double precision NOT NULL CHECK (green_area_m2 >= 0),
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT current_user,
    UNIQUE (parcel_id, measured_on)
);
