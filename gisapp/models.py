"""SQLAlchemy 2 typed models mirroring ``sql/migrations`` (the SQL is the source of truth).

tests/db/test_schema.py checks that every table of the migrated database is mapped, and every
column with the same type and nullability, so the two cannot drift silently.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB, OID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

SRID = 4490  # CGCS2000 geographic (lon/lat)


class Base(DeclarativeBase):
    pass


class Versioned:
    """Columns of every editable table: optimistic locking and who/when (set by triggers)."""

    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    updated_by: Mapped[str] = mapped_column(Text, server_default="current_user")


# -- reference tables ------------------------------------------------------------------------

class LandUseCode(Base):
    __tablename__ = "land_use_codes"
    __table_args__ = {"schema": "land"}
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    is_green: Mapped[bool] = mapped_column(Boolean)


class LegacyLandUseCode(Base):
    __tablename__ = "legacy_land_use_codes"
    __table_args__ = {"schema": "land"}
    legacy_code: Mapped[str] = mapped_column(Text, primary_key=True)
    system: Mapped[str] = mapped_column(Text)
    name_zh: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(ForeignKey("land.land_use_codes.code"))


class ParcelStatus(Base):
    __tablename__ = "parcel_statuses"
    __table_args__ = {"schema": "land"}
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    sort: Mapped[int] = mapped_column(SmallInteger)


class ParcelStatusTransition(Base):
    __tablename__ = "parcel_status_transitions"
    __table_args__ = {"schema": "land"}
    from_status: Mapped[str] = mapped_column(ForeignKey("land.parcel_statuses.code"), primary_key=True)
    to_status: Mapped[str] = mapped_column(ForeignKey("land.parcel_statuses.code"), primary_key=True)


# -- zones and parcels -----------------------------------------------------------------------

class District(Versioned, Base):
    __tablename__ = "districts"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    #: the district's boundary (migration 1500); NULL until imported (`gisapp import districts`)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True)
    source_crs: Mapped[str] = mapped_column(Text)


class Zone(Versioned, Base):
    __tablename__ = "zones"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    district_id: Mapped[int] = mapped_column(ForeignKey("land.districts.id"))
    kind: Mapped[str] = mapped_column(Text)
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_area_m2: Mapped[float | None] = mapped_column(Double)
    approved_area_is_demo: Mapped[bool] = mapped_column(Boolean)
    region: Mapped[str] = mapped_column(Text)
    is_synthetic: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)


class ZoneBoundary(Versioned, Base):
    __tablename__ = "zone_boundaries"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    approval_ref: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    area_m2: Mapped[float | None] = mapped_column(Double, server_default=None)
    source_crs: Mapped[str] = mapped_column(Text)
    is_synthetic: Mapped[bool] = mapped_column(Boolean)


class Enterprise(Versioned, Base):
    __tablename__ = "enterprises"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str | None] = mapped_column(Text, unique=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    size_class: Mapped[str] = mapped_column(Text)
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    is_synthetic: Mapped[bool] = mapped_column(Boolean)


class Parcel(Versioned, Base):
    __tablename__ = "parcels"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    #: m² on the ellipsoid, ST_Area(geom::geography), kept by a trigger (migration 0900); bulk loaders
    #: supply it (gisapp.geodesy)
    area_m2: Mapped[float] = mapped_column(Double)
    land_use_code: Mapped[str] = mapped_column(ForeignKey("land.land_use_codes.code"))
    legacy_land_use_code: Mapped[str | None] = mapped_column(ForeignKey("land.legacy_land_use_codes.legacy_code"))
    status: Mapped[str] = mapped_column(ForeignKey("land.parcel_statuses.code"))
    status_since: Mapped[dt.date | None] = mapped_column(Date)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("land.enterprises.id"))
    plot_ratio_min: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    plot_ratio_max: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    floor_area_m2: Mapped[float | None] = mapped_column(Double)
    building_footprint_m2: Mapped[float | None] = mapped_column(Double)
    office_living_area_m2: Mapped[float | None] = mapped_column(Double)
    source_crs: Mapped[str] = mapped_column(Text)
    is_synthetic: Mapped[bool] = mapped_column(Boolean)


class ParcelStatusChange(Base):
    __tablename__ = "parcel_status_history"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    from_status: Mapped[str | None] = mapped_column(ForeignKey("land.parcel_statuses.code"))
    to_status: Mapped[str] = mapped_column(ForeignKey("land.parcel_statuses.code"))
    changed_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# -- grants, progress, metrics -------------------------------------------------------------

class LandGrant(Versioned, Base):
    __tablename__ = "land_grants"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("land.enterprises.id"))
    contract_no: Mapped[str] = mapped_column(Text, unique=True)
    supply_method: Mapped[str] = mapped_column(Text)
    announced_on: Mapped[dt.date | None] = mapped_column(Date)
    granted_on: Mapped[dt.date] = mapped_column(Date)
    delivery_due_on: Mapped[dt.date | None] = mapped_column(Date)
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    agreed_start_on: Mapped[dt.date | None] = mapped_column(Date)
    agreed_completion_on: Mapped[dt.date | None] = mapped_column(Date)
    term_years: Mapped[int | None] = mapped_column(SmallInteger)
    price_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    total_investment_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    is_standardized: Mapped[bool] = mapped_column(Boolean)
    is_major_project: Mapped[bool] = mapped_column(Boolean)
    industry: Mapped[str | None] = mapped_column(Text)
    is_synthetic: Mapped[bool] = mapped_column(Boolean)


class GrantRequirement(Versioned, Base):
    __tablename__ = "grant_requirements"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("land.land_grants.id"))
    indicator: Mapped[str] = mapped_column(Text)
    review_stage: Mapped[str] = mapped_column(Text)
    min_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))


class GrantReview(Versioned, Base):
    __tablename__ = "grant_reviews"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("land.land_grants.id"))
    review_stage: Mapped[str] = mapped_column(Text)
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    indicator: Mapped[str] = mapped_column(Text)
    actual_value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    note: Mapped[str | None] = mapped_column(Text)


class ConstructionProgress(Versioned, Base):
    __tablename__ = "construction_progress"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    reported_on: Mapped[dt.date] = mapped_column(Date)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    should_develop_area_m2: Mapped[float | None] = mapped_column(Double)
    developed_area_m2: Mapped[float | None] = mapped_column(Double)
    invested_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    total_investment_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)


class ConstructionSuspension(Versioned, Base):
    __tablename__ = "construction_suspensions"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    suspended_from: Mapped[dt.date] = mapped_column(Date)
    resumed_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class IdleExemption(Versioned, Base):
    __tablename__ = "idle_exemptions"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    reason_code: Mapped[str] = mapped_column(Text)
    from_on: Mapped[dt.date] = mapped_column(Date)
    to_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class EnterpriseMetrics(Versioned, Base):
    __tablename__ = "enterprise_metrics"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("land.enterprises.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    grading_category: Mapped[str] = mapped_column(Text)
    revenue_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    tax_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    value_added_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    energy_tce: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    electricity_kwh: Mapped[Decimal | None] = mapped_column(Numeric(16, 1))
    emissions_t: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    employees: Mapped[int | None] = mapped_column(Integer)
    rd_spend_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))


class MixedUsePilot(Versioned, Base):
    __tablename__ = "mixed_use_pilots"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"), unique=True)
    approved_on: Mapped[dt.date] = mapped_column(Date)
    pilot_ref: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class MixedUseComponent(Versioned, Base):
    __tablename__ = "mixed_use_components"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    land_use_code: Mapped[str] = mapped_column(ForeignKey("land.land_use_codes.code"))
    floor_share_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    floor_area_m2: Mapped[float | None] = mapped_column(Double)


class GreenArea(Versioned, Base):
    __tablename__ = "green_areas"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    measured_on: Mapped[dt.date] = mapped_column(Date)
    green_area_m2: Mapped[float] = mapped_column(Double)


# -- quotas, assessments, performance ------------------------------------------------------

class QuotaAccount(Versioned, Base):
    __tablename__ = "quota_accounts"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    resource: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("land.quota_accounts.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("land.districts.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("land.zones.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("land.land_grants.id"))
    name: Mapped[str] = mapped_column(Text)


class QuotaLedgerEntry(Versioned, Base):
    __tablename__ = "quota_ledger"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    resource: Mapped[str] = mapped_column(Text)
    entry_type: Mapped[str] = mapped_column(Text)
    from_account_id: Mapped[int | None] = mapped_column(ForeignKey("land.quota_accounts.id"))
    to_account_id: Mapped[int | None] = mapped_column(ForeignKey("land.quota_accounts.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class QuotaRequest(Versioned, Base):
    __tablename__ = "quota_requests"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    resource: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int] = mapped_column(ForeignKey("land.quota_accounts.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    requested_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class ZoneAssessment(Versioned, Base):
    __tablename__ = "zone_assessments"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    kind: Mapped[str] = mapped_column(Text)
    document_ref: Mapped[str | None] = mapped_column(Text)
    approved_on: Mapped[dt.date] = mapped_column(Date)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class ZoneIndicatorValue(Versioned, Base):
    __tablename__ = "zone_indicator_values"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[str] = mapped_column(Text)
    indicator: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Double)
    unit: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)


# -- rules, users, audit -------------------------------------------------------------------

class ParameterOverride(Versioned, Base):
    __tablename__ = "parameter_overrides"
    __table_args__ = {"schema": "rules"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    value = mapped_column(JSONB, nullable=False)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("land.zones.id"))
    year: Mapped[int | None] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[dt.date] = mapped_column(Date)


class AssessmentRun(Base):
    __tablename__ = "assessment_runs"
    __table_args__ = {"schema": "rules"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    zone_codes = mapped_column(ARRAY(Text), nullable=True)
    rule_names = mapped_column(ARRAY(Text), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str] = mapped_column(Text)
    finding_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)  # running, finished, failed
    seconds = mapped_column(JSONB, nullable=True)  # where the time went, per phase and module
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # its snapshot's time
    parcel_ids = mapped_column(ARRAY(BigInteger), nullable=True)  # a patch run's parcels


class ParameterSet(Base):
    """One distinct set of rule parameters with their provenance (findings point to it)."""

    __tablename__ = "parameter_sets"
    __table_args__ = {"schema": "rules"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    digest: Mapped[str] = mapped_column(Text, unique=True)
    parameters = mapped_column(JSONB, nullable=False)


class CurrentRun(Base):
    """Which run's findings are current for a rule and zone (zone_key 0: findings without a zone)."""

    __tablename__ = "current_runs"
    __table_args__ = {"schema": "rules"}
    rule: Mapped[str] = mapped_column(Text, primary_key=True)
    zone_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("rules.assessment_runs.id"))
    made_current_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    findings: Mapped[int] = mapped_column(Integer)  # how many findings the run has for this key


class ReassessQueueEntry(Base):
    """A change that feeds the rules, queued by its own transaction for `gisapp worker`
    (zone_id NULL: the whole-city rules)."""

    __tablename__ = "reassess_queue"
    __table_args__ = {"schema": "rules"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    zone_id: Mapped[int | None] = mapped_column(Integer)
    parcel_id: Mapped[int | None] = mapped_column(BigInteger)  # a parcel job (migration 1650)
    covered: Mapped[bool] = mapped_column(Boolean)  # the parcel-local rules need only its parcel jobs
    source: Mapped[str] = mapped_column(Text)
    enqueued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # the rules whose parameters the change set; NULL: every rule its data feeds (migration 1900)
    rules = mapped_column(ARRAY(Text), nullable=True)


class ParcelPatch(Base):
    """The latest parcel job's findings of a parcel-local rule, while no full run of the zone has
    read the data after it (gisapp.rules.parcel_jobs)."""

    __tablename__ = "parcel_patches"
    __table_args__ = {"schema": "rules"}
    rule: Mapped[str] = mapped_column(Text, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    zone_key: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(ForeignKey("rules.assessment_runs.id"))
    read_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AssessmentClock(Base):
    """The date findings are as of (fixed_on NULL: today in Asia/Shanghai); one row."""

    __tablename__ = "assessment_clock"
    __table_args__ = {"schema": "rules"}
    only_row: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    fixed_on: Mapped[dt.date | None] = mapped_column(Date)
    daily_pass_on: Mapped[dt.date | None] = mapped_column(Date)


class ConfirmedOutcomeStatus(Base):
    """The parcel status a confirmed outcome means (sql/security/0820_review_moves_status.sql)."""

    __tablename__ = "confirmed_outcome_statuses"
    __table_args__ = {"schema": "rules"}
    rule: Mapped[str] = mapped_column(Text, primary_key=True)
    outcome: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(ForeignKey("land.parcel_statuses.code"))
    # statuses already beyond it on its disposal path: the confirmation leaves them as they are
    settled_statuses = mapped_column(ARRAY(Text), nullable=False)


class ReviewStatusChange(Base):
    """What a confirmed finding did to its parcel's status, and whether withdrawing it took the
    change back."""

    __tablename__ = "review_status_changes"
    __table_args__ = {"schema": "rules"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    finding_id: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str] = mapped_column(Text)
    subject_id: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    # the review's own who and when: a review carried over to a later run's finding keeps them
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    effect: Mapped[str] = mapped_column(Text)  # moved, already, settled, before
    from_status: Mapped[str | None] = mapped_column(ForeignKey("land.parcel_statuses.code"))
    from_since: Mapped[dt.date | None] = mapped_column(Date)
    to_status: Mapped[str | None] = mapped_column(ForeignKey("land.parcel_statuses.code"))
    history_id: Mapped[int | None] = mapped_column(ForeignKey("land.parcel_status_history.id"))
    confirmed_by: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    confirmed_txid: Mapped[int] = mapped_column(BigInteger)
    withdrawn_by: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_txid: Mapped[int | None] = mapped_column(BigInteger)
    restored: Mapped[bool | None] = mapped_column(Boolean)
    restore_history_id: Mapped[int | None] = mapped_column(ForeignKey("land.parcel_status_history.id"))


class Finding(Versioned, Base):
    __tablename__ = "findings"
    __table_args__ = {"schema": "rules"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # plain ids, not foreign keys: checking three keys per row cost more than the rules (0500)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(Text)
    rule_version: Mapped[str] = mapped_column(Text)
    as_of: Mapped[dt.date] = mapped_column(Date)
    zone_id: Mapped[int | None] = mapped_column(Integer)
    zone_key: Mapped[int] = mapped_column(Integer)  # coalesce(zone_id, 0), written with the row
    parcel_id: Mapped[int | None] = mapped_column(BigInteger)
    subject_type: Mapped[str] = mapped_column(Text)
    subject_id: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    is_positive: Mapped[bool] = mapped_column(Boolean)
    parameter_set_id: Mapped[int | None] = mapped_column(BigInteger)
    evidence: Mapped[str] = mapped_column(Text)  # JSON text, as the assessment writes it (migration 1100)
    explanation_zh: Mapped[str] = mapped_column(Text)
    explanation_en: Mapped[str] = mapped_column(Text)
    review_status: Mapped[str] = mapped_column(Text)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    patch_run_id: Mapped[int | None] = mapped_column(BigInteger)  # written by a parcel job (1650)


class User(Versioned, Base):
    __tablename__ = "users"
    __table_args__ = {"schema": "auth"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class UserZone(Base):
    __tablename__ = "user_zones"
    __table_args__ = {"schema": "auth"}
    user_id: Mapped[int] = mapped_column(ForeignKey("auth.users.id"), primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"), primary_key=True)


class ApiToken(Base):
    """A personal read-only API token (sql/migrations/1860_create_api_tokens.sql): only its hash."""

    __tablename__ = "api_tokens"
    __table_args__ = {"schema": "auth"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth.users.id"))
    token_hash: Mapped[bytes] = mapped_column(BYTEA, unique=True)
    label: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    updated_by: Mapped[str | None] = mapped_column(Text)  # NULL: made by the CLI, not an app user


class ChangeLogEntry(Base):
    __tablename__ = "change_log"
    __table_args__ = {"schema": "audit"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    txid: Mapped[int] = mapped_column(BigInteger)
    table_schema: Mapped[str] = mapped_column(Text)
    table_name: Mapped[str] = mapped_column(Text)
    row_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    old_row = mapped_column(JSONB, nullable=True)
    new_row = mapped_column(JSONB, nullable=True)
    db_user: Mapped[str] = mapped_column(Text)
    app_user: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    # generated by the database (migration 1891): the parcel and the case a change is about
    parcel_key: Mapped[str | None] = mapped_column(Text, Computed("CASE WHEN table_schema = 'land' AND "
                                                                "table_name = 'parcels' THEN row_id ELSE "
                                                                "coalesce(new_row, old_row) ->> 'parcel_id' END"))
    case_key: Mapped[str | None] = mapped_column(Text, Computed("CASE WHEN table_schema = 'land' AND "
                                                              "table_name = 'cases' THEN row_id ELSE "
                                                              "coalesce(new_row, old_row) ->> 'case_id' END"))


class ImportRecord(Base):
    """One file import that wrote data (sql/migrations/0400_create_import_log.sql)."""

    __tablename__ = "imports"
    __table_args__ = {"schema": "audit"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(Text)
    source_crs: Mapped[str | None] = mapped_column(Text)
    rows_in_file: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, server_default="0")
    warnings: Mapped[int] = mapped_column(Integer, server_default="0")
    bulk: Mapped[bool] = mapped_column(Boolean, server_default="false")
    options = mapped_column(JSONB, nullable=False, server_default="{}")
    imported_by: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# -- reference tables named by the rules ---------------------------------------------------------


class _CodeNames:
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)


class AssessmentKind(_CodeNames, Base):
    __tablename__ = "assessment_kinds"
    __table_args__ = {"schema": "land"}


class IdleExemptionReason(_CodeNames, Base):
    __tablename__ = "idle_exemption_reasons"
    __table_args__ = {"schema": "land"}


class QuotaResource(_CodeNames, Base):
    __tablename__ = "quota_resources"
    __table_args__ = {"schema": "land"}
    unit: Mapped[str] = mapped_column(Text)


class PerformanceIndicator(_CodeNames, Base):
    __tablename__ = "performance_indicators"
    __table_args__ = {"schema": "land"}
    unit: Mapped[str] = mapped_column(Text)


class PerformanceMethod(_CodeNames, Base):
    __tablename__ = "performance_methods"
    __table_args__ = {"schema": "land"}
    effective_from: Mapped[dt.date] = mapped_column(Date)


# -- signing in and the verified request context (docs/security.md) ------------------------------


class Xid8(UserDefinedType):
    """PostgreSQL's 64-bit transaction id (``xid8``)."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "XID8"


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = {"schema": "auth"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(Text)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    throttled: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Session(Base):
    """A signed-in browser session, kept on the server (only hashes are stored)."""

    __tablename__ = "sessions"
    __table_args__ = {"schema": "auth"}
    token_hash: Mapped[bytes] = mapped_column(BYTEA, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    client_hash: Mapped[bytes] = mapped_column(BYTEA)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RequestContext(Base):
    """The verified user of a transaction (written only by auth.begin_request)."""

    __tablename__ = "request_context"
    __table_args__ = {"schema": "auth"}
    pid: Mapped[int] = mapped_column(Integer, primary_key=True)
    xid = mapped_column(Xid8, nullable=False)
    username: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    zone_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    began_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")


class ContextKey(Base):
    """The key request contexts are signed with (readable by the owner only)."""

    __tablename__ = "context_key"
    __table_args__ = {"schema": "auth"}
    only_one: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default="true")
    key: Mapped[bytes] = mapped_column(BYTEA)
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")


# -- the database's own bookkeeping ------------------------------------------------------------------


class AppliedMigration(Base):
    __tablename__ = "migrations"
    __table_args__ = {"schema": "gisapp_meta"}
    filename: Mapped[str] = mapped_column(Text, primary_key=True)
    checksum: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")


class DataVersion(Base):
    """A stripe of the data-version counter that tiles' ETags read (migration 1861): bumped by any
    statement that changes a row of a table a layer shows."""

    __tablename__ = "data_versions"
    __table_args__ = {"schema": "gisapp_meta"}
    stripe: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    relid: Mapped[int] = mapped_column(OID)
    n: Mapped[int] = mapped_column(BigInteger)


class DatasetFact(Base):
    """Facts about the data held (e.g. that it is synthetic demo data)."""

    __tablename__ = "dataset"
    __table_args__ = {"schema": "gisapp_meta"}
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)



# -- casework (sql/migrations/1800_create_casework.sql; docs/casework.md) -----------------------------


class CaseKind(Base):
    __tablename__ = "case_kinds"
    __table_args__ = {"schema": "land"}
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    code_prefix: Mapped[str] = mapped_column(Text, unique=True)
    subject: Mapped[str] = mapped_column(Text)  # parcel, zone
    default_body: Mapped[str] = mapped_column(Text)
    policy_ref: Mapped[str] = mapped_column(Text)
    sort: Mapped[int] = mapped_column(SmallInteger)


class CasePathway(Base):
    __tablename__ = "case_pathways"
    __table_args__ = {"schema": "land"}
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(ForeignKey("land.case_kinds.code"))
    policy_ref: Mapped[str] = mapped_column(Text)
    restarts_clock: Mapped[bool] = mapped_column(Boolean)
    sort: Mapped[int] = mapped_column(SmallInteger)


class CaseDocumentKind(Base):
    __tablename__ = "case_document_kinds"
    __table_args__ = {"schema": "land"}
    code: Mapped[str] = mapped_column(Text, primary_key=True)


class CasePathwayStep(Base):
    """A step of a pathway: who records it, what starts its period and which parameter gives it."""

    __tablename__ = "case_pathway_steps"
    __table_args__ = {"schema": "land"}
    pathway: Mapped[str] = mapped_column(ForeignKey("land.case_pathways.code"), primary_key=True)
    step: Mapped[str] = mapped_column(Text, primary_key=True)
    sort: Mapped[int] = mapped_column(SmallInteger)
    who: Mapped[str] = mapped_column(Text)  # zone, bureau
    optional: Mapped[bool] = mapped_column(Boolean)
    anchor: Mapped[str | None] = mapped_column(Text)
    period_param: Mapped[str | None] = mapped_column(Text)
    article: Mapped[str] = mapped_column(Text)
    document: Mapped[str | None] = mapped_column(ForeignKey("land.case_document_kinds.code"))
    results = mapped_column(ARRAY(Text), nullable=True)
    settles: Mapped[str | None] = mapped_column(Text)
    record: Mapped[str | None] = mapped_column(Text)


class CaseStepDependency(Base):
    __tablename__ = "case_step_dependencies"
    __table_args__ = {"schema": "land"}
    pathway: Mapped[str] = mapped_column(Text, primary_key=True)
    step: Mapped[str] = mapped_column(Text, primary_key=True)
    depends_on: Mapped[str] = mapped_column(Text, primary_key=True)


class CaseOutcome(Base):
    __tablename__ = "case_outcomes"
    __table_args__ = {"schema": "land"}
    kind: Mapped[str] = mapped_column(ForeignKey("land.case_kinds.code"), primary_key=True)
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    pathway: Mapped[str | None] = mapped_column(ForeignKey("land.case_pathways.code"))
    requires = mapped_column(ARRAY(Text), nullable=False)
    frees_land: Mapped[bool] = mapped_column(Boolean)


class CaseOpener(Base):
    """Which confirmed finding opens which case (sql/security/0900_casework.sql)."""

    __tablename__ = "case_openers"
    __table_args__ = {"schema": "land"}
    rule: Mapped[str] = mapped_column(Text, primary_key=True)
    outcome: Mapped[str] = mapped_column(Text, primary_key=True)
    evidence_flag: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    pathway: Mapped[str] = mapped_column(Text)


class Case(Versioned, Base):
    __tablename__ = "cases"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(ForeignKey("land.case_kinds.code"))
    pathway: Mapped[str] = mapped_column(Text)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("land.parcels.id"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("land.land_grants.id"))
    finding_id: Mapped[int | None] = mapped_column(BigInteger)
    finding_rule: Mapped[str | None] = mapped_column(Text)
    finding_outcome: Mapped[str | None] = mapped_column(Text)
    finding_reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    idle_clock_from: Mapped[dt.date | None] = mapped_column(Date)
    responsible_body: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(Text)
    opened_via: Mapped[str] = mapped_column(Text)  # finding, hand
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_by: Mapped[str | None] = mapped_column(Text)
    freed_area_m2: Mapped[float | None] = mapped_column(Double)
    note: Mapped[str | None] = mapped_column(Text)


class CaseStep(Versioned, Base):
    __tablename__ = "case_steps"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("land.cases.id"))
    pathway: Mapped[str] = mapped_column(Text)
    step: Mapped[str] = mapped_column(Text)
    done_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    period = mapped_column(JSONB, nullable=True)
    result: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    article: Mapped[str] = mapped_column(Text)


class CaseMoney(Versioned, Base):
    __tablename__ = "case_money"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("land.cases.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("land.case_steps.id"))
    purpose: Mapped[str] = mapped_column(Text)
    payer: Mapped[str] = mapped_column(Text)
    amount_wan: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    basis: Mapped[str] = mapped_column(Text)
    base_wan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    served_on: Mapped[dt.date | None] = mapped_column(Date)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    period = mapped_column(JSONB, nullable=True)
    paid_wan: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class CaseDocument(Versioned, Base):
    __tablename__ = "case_documents"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("land.cases.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("land.case_steps.id"))
    kind: Mapped[str] = mapped_column(ForeignKey("land.case_document_kinds.code"))
    doc_no: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[dt.date] = mapped_column(Date)


class CaseDocumentFile(Base):
    """A rendered .docx of a case's document (insert-only; sql/migrations/1840)."""

    __tablename__ = "case_document_files"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("land.case_documents.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("land.cases.id"))
    filename: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(BYTEA)
    sha256: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(Text)
    template_sha256: Mapped[str] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean)
    rendered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rendered_by: Mapped[str] = mapped_column(Text)


class CaseDocumentNumber(Base):
    """The last number (文号) given per prefix and year (sql/security/0910)."""

    __tablename__ = "case_document_numbers"
    __table_args__ = {"schema": "land"}
    prefix: Mapped[str] = mapped_column(Text, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer)


class CaseExtension(Versioned, Base):
    """An extension of the start period (Order No. 53 art. 12 (1)); the grant holds the new dates."""

    __tablename__ = "case_extensions"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("land.cases.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("land.case_steps.id"), unique=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("land.land_grants.id"))
    agreed_on: Mapped[dt.date] = mapped_column(Date)
    previous_start_on: Mapped[dt.date] = mapped_column(Date)
    previous_completion_on: Mapped[dt.date | None] = mapped_column(Date)
    new_start_on: Mapped[dt.date] = mapped_column(Date)
    new_completion_on: Mapped[dt.date | None] = mapped_column(Date)
    latest_start_on: Mapped[dt.date] = mapped_column(Date)
    cap_years: Mapped[int] = mapped_column(SmallInteger)
    cap_source: Mapped[str] = mapped_column(Text)


class ParcelSplit(Versioned, Base):
    """The split of a parcel in a surplus land transfer (land.split_parcel; append-only)."""

    __tablename__ = "parcel_splits"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"))
    new_parcel_id: Mapped[int] = mapped_column(ForeignKey("land.parcels.id"), unique=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("land.cases.id"), unique=True)
    cut_ewkt: Mapped[str] = mapped_column(Text)  # a polygon or a line: text, not a parcel geometry column
    cut_kind: Mapped[str] = mapped_column(Text)
    original_geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    original_area_m2: Mapped[float] = mapped_column(Double)
    retained_area_m2: Mapped[float] = mapped_column(Double)
    surplus_area_m2: Mapped[float] = mapped_column(Double)
    split_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    done_by: Mapped[str] = mapped_column(Text)


# -- the revitalization record and zone rectification (issue #20; sql/migrations/1870-1872) ------

class StockSnapshot(Base):
    """A zone's stock of one kind at a quarter's end (kept unchanged; gisapp.revitalization.snapshots)."""

    __tablename__ = "stock_snapshots"
    __table_args__ = {"schema": "rules"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    quarter_end: Mapped[dt.date] = mapped_column(Date)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    kind: Mapped[str] = mapped_column(Text)  # idle, low_efficiency, approved_unsupplied, supplied_unbuilt
    parcels: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Double)
    findings_as_of: Mapped[dt.date | None] = mapped_column(Date)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    taken_by: Mapped[str] = mapped_column(Text, server_default="current_user")
    taken_via: Mapped[str] = mapped_column(Text)  # command, daily_pass, demo
    note: Mapped[str | None] = mapped_column(Text)


class ZoneNationalResult(Versioned, Base):
    """The published national evaluation result of a zone for a year, with its source."""

    __tablename__ = "zone_national_results"
    __table_args__ = {"schema": "land"}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land.zones.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    national_class: Mapped[str] = mapped_column(Text)
    regional_class: Mapped[str | None] = mapped_column(Text)
    national_rank: Mapped[int | None] = mapped_column(Integer)
    national_count: Mapped[int | None] = mapped_column(Integer)
    below_region_average: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    region_average: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    source: Mapped[str] = mapped_column(Text)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class CaseStage(Base):
    __tablename__ = "case_stages"
    __table_args__ = {"schema": "land"}
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    sort: Mapped[int] = mapped_column(SmallInteger, unique=True)


class CaseStepStage(Base):
    __tablename__ = "case_step_stages"
    __table_args__ = {"schema": "land"}
    step: Mapped[str] = mapped_column(Text, primary_key=True)
    stage: Mapped[str] = mapped_column(ForeignKey("land.case_stages.code"))


def table_of(qualified_name: str):
    """The mapped ``sqlalchemy.Table`` of ``schema.table`` (what the edits read and write through,
    so that each value is bound with its column's type); KeyError names an unmapped table."""
    try:
        return Base.metadata.tables[qualified_name]
    except KeyError:
        raise KeyError(f"{qualified_name} is not mapped in gisapp.models") from None
