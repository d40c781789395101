-- Rule parameters and findings, application users, the audit history.

-- Overrides of a rule's default parameters (defaults live with the rule, with their source).
CREATE TABLE rules.parameter_overrides (
    id              serial PRIMARY KEY,
    rule            text NOT NULL,
    name            text NOT NULL,
    value           jsonb NOT NULL,
    zone_id         integer REFERENCES land.zones (id) ON DELETE CASCADE,
    year            smallint,
    source          text NOT NULL,
    effective_from  date NOT NULL,
    version         integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT current_user
);
CREATE UNIQUE INDEX parameter_overrides_unique_idx ON rules.parameter_overrides
    (rule, name, coalesce(zone_id, 0), coalesce(year, 0), effective_from);

CREATE TABLE rules.assessment_runs (
    id           bigserial PRIMARY KEY,
    as_of        date NOT NULL,
    zone_codes   text[],
    rule_names   text[],
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    started_by   text NOT NULL DEFAULT current_user,
    finding_count integer
);

CREATE TABLE rules.findings (
    id             bigserial PRIMARY KEY,
    run_id         bigint REFERENCES rules.assessment_runs (id) ON DELETE CASCADE,
    rule           text NOT NULL,
    rule_version   text NOT NULL,
    as_of          date NOT NULL,
    zone_id        integer REFERENCES land.zones (id) ON DELETE CASCADE,
    parcel_id      bigint REFERENCES land.parcels (id) ON DELETE CASCADE,
    subject_type   text NOT NULL,        -- parcel, zone, grant, district, account, ...
    subject_id     text NOT NULL,
    outcome        text NOT NULL,        -- rule-specific verdict code, or cannot_evaluate
    is_positive    boolean NOT NULL,     -- true: something for people to act on
    parameters     jsonb NOT NULL DEFAULT '{}',
    evidence       jsonb NOT NULL DEFAULT '{}',
    explanation_zh text NOT NULL,
    explanation_en text NOT NULL,
    review_status  text NOT NULL DEFAULT 'open' CHECK (review_status IN ('open', 'confirmed', 'dismissed')),
    review_reason  text,
    reviewed_by    text,
    reviewed_at    timestamptz,
    version        integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT current_user
);
CREATE INDEX findings_parcel_idx ON rules.findings (parcel_id);
CREATE INDEX findings_rule_idx ON rules.findings (rule, as_of);
CREATE INDEX findings_zone_idx ON rules.findings (zone_id);

CREATE TABLE auth.users (
    id             serial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.-]{3,40}$'),
    display_name   text NOT NULL,
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('bureau_admin', 'bureau_viewer', 'zone_editor', 'analyst')),
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT current_user
);

CREATE TABLE auth.user_zones (
    user_id  integer NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    zone_id  integer NOT NULL REFERENCES land.zones (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, zone_id)
);

CREATE TABLE auth.login_attempts (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL,
    remote_addr   text,
    succeeded     boolean NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_user_time_idx ON auth.login_attempts (username, attempted_at);

-- Every change to an editable table, written by trigger (sql/security/0020_audit.sql),
-- so that a change made directly in psql is recorded too.
CREATE TABLE audit.change_log (
    id            bigserial PRIMARY KEY,
    changed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    txid          bigint NOT NULL DEFAULT txid_current(),
    table_schema  text NOT NULL,
    table_name    text NOT NULL,
    row_id        text NOT NULL,
    action        text NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE', 'BULK_LOAD')),
    old_row       jsonb,
    new_row       jsonb,
    db_user       text NOT NULL DEFAULT session_user,
    app_user      text,
    reason        text
);
CREATE INDEX change_log_row_idx ON audit.change_log (table_name, row_id, changed_at);
