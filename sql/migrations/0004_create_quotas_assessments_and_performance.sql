-- Energy and pollutant quotas (city -> district -> zone -> project), zone regional
-- assessments, zone annual performance indicators.

-- An account holds one resource's quota at one level for one year.
CREATE TABLE land.quota_accounts (
    id            serial PRIMARY KEY,
    year          smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    resource      text NOT NULL REFERENCES land.quota_resources (code),
    level         text NOT NULL CHECK (level IN ('city', 'district', 'zone', 'project')),
    parent_id     integer REFERENCES land.quota_accounts (id),
    district_id   integer REFERENCES land.districts (id),
    zone_id       integer REFERENCES land.zones (id),
    grant_id      integer REFERENCES land.land_grants (id),
    name          text NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT current_user,
    CHECK ((level = 'city') = (parent_id IS NULL)),
    CHECK (level <> 'district' OR district_id IS NOT NULL),
    CHECK (level <> 'zone' OR zone_id IS NOT NULL),
    CHECK (level <> 'project' OR grant_id IS NOT NULL)
);
CREATE UNIQUE INDEX quota_accounts_unique_idx ON land.quota_accounts
    (year, resource, level, coalesce(district_id, 0), coalesce(zone_id, 0), coalesce(grant_id, 0));

-- Every movement of quota. allocation: parent -> child; transfer: between accounts of a level;
-- use: consumption by an account (to_account_id NULL); escalation: a district's shortfall
-- passed up to the city (to the city account) with the amount it could not balance.
CREATE TABLE land.quota_ledger (
    id               bigserial PRIMARY KEY,
    year             smallint NOT NULL,
    resource         text NOT NULL REFERENCES land.quota_resources (code),
    entry_type       text NOT NULL CHECK (entry_type IN ('allocation', 'transfer', 'use', 'escalation')),
    from_account_id  integer REFERENCES land.quota_accounts (id),
    to_account_id    integer REFERENCES land.quota_accounts (id),
    amount           numeric(16, 3) NOT NULL CHECK (amount > 0),
    recorded_on      date NOT NULL,
    reference        text,
    note             text,
    version          integer NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text NOT NULL DEFAULT current_user,
    CHECK (from_account_id IS NOT NULL OR to_account_id IS NOT NULL),
    CHECK (entry_type <> 'use' OR (from_account_id IS NOT NULL AND to_account_id IS NULL))
);
CREATE INDEX quota_ledger_from_idx ON land.quota_ledger (from_account_id);
CREATE INDEX quota_ledger_to_idx ON land.quota_ledger (to_account_id);

-- A project's request for quota; decided against the district's balance.
CREATE TABLE land.quota_requests (
    id              serial PRIMARY KEY,
    year            smallint NOT NULL,
    resource        text NOT NULL REFERENCES land.quota_resources (code),
    account_id      integer NOT NULL REFERENCES land.quota_accounts (id),  -- the requesting project
    amount          numeric(16, 3) NOT NULL CHECK (amount > 0),
    requested_on    date NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'granted', 'escalated', 'refused')),
    decided_on      date,
    note            text,
    version         integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT current_user
);

CREATE TABLE land.zone_assessments (
    id             serial PRIMARY KEY,
    zone_id        integer NOT NULL REFERENCES land.zones (id) ON DELETE CASCADE,
    kind           text NOT NULL REFERENCES land.assessment_kinds (code),
    document_ref   text,
    approved_on    date NOT NULL,
    valid_from     date NOT NULL,
    valid_to       date,
    version        integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT current_user,
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);

-- The customs evaluation method in force per year (2020 trial, 2024 revised).
CREATE TABLE land.performance_methods (
    code            text PRIMARY KEY,
    name_zh         text NOT NULL,
    name_en         text NOT NULL,
    effective_from  date NOT NULL
);

INSERT INTO land.performance_methods (code, name_zh, name_en, effective_from) VALUES
  ('2020_trial',   '综合保税区发展绩效评估办法（试行）', 'Zone performance evaluation (trial)', '2020-01-01'),
  ('2024_revised', '综合保税区发展绩效评估办法（修订）', 'Zone performance evaluation (revised)', '2024-01-01');

-- Annual indicator values of a zone (the land ones are computed from parcels by the rules).
CREATE TABLE land.zone_indicator_values (
    id             serial PRIMARY KEY,
    zone_id        integer NOT NULL REFERENCES land.zones (id) ON DELETE CASCADE,
    year           smallint NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    category       text NOT NULL CHECK (category IN ('scale', 'quality', 'development', 'innovation', 'compliance', 'bonus_penalty')),
    indicator      text NOT NULL,
    value          double precision NOT NULL,
    unit           text,
    source         text,
    version        integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT current_user,
    UNIQUE (zone_id, year, indicator)
);
