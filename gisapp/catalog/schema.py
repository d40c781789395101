"""The schema of a layer declaration, validated with pydantic when the YAML is loaded."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
ROLES = {"bureau_admin", "bureau_viewer", "zone_editor", "analyst", "anonymous"}


class Text(BaseModel):
    """A label in Chinese (default) and English."""

    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class FieldDecl(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    label: Text
    unit: str | None = None
    #: shown only in this UI language (e.g. name_zh in Chinese, name_en in English)
    lang: Literal["zh", "en"] | None = None

    @field_validator("name")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not IDENT.match(v):
            raise ValueError(f"field name {v!r} is not a plain identifier")
        return v


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str | int | bool
    color: str
    label: Text


class ClassBreak(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float | None = None
    max: float | None = None
    color: str
    label: Text


class Style(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["single", "categories", "classes"] = "single"
    field: str | None = None
    color: str = "#3388ff"           # single, and the fallback for unlisted values
    categories: list[Category] = Field(default_factory=list)
    classes: list[ClassBreak] = Field(default_factory=list)
    line_color: str | None = None
    weight: float = 1.0
    fill_opacity: float = 0.55
    dash_array: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Style:
        if self.kind != "single" and not self.field:
            raise ValueError(f"a {self.kind} style needs 'field'")
        if self.kind == "categories" and not self.categories:
            raise ValueError("a categories style needs 'categories'")
        if self.kind == "classes" and not self.classes:
            raise ValueError("a classes style needs 'classes'")
        return self


class Zoom(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: int = Field(0, ge=0, le=22)
    max: int = Field(22, ge=0, le=22)


class Aggregate(BaseModel):
    """How a layer is summarised below its ``detail_min_zoom``: its features counted per feature
    of another layer (e.g. parcels per zone), drawn with that layer's geometry."""

    model_config = ConfigDict(extra="forbid")
    into: str = "zones"        # the layer whose features carry the summary
    key: str = "zone_code"     # field of this layer naming the target feature
    target_key: str = "code"   # field of the target layer matched by ``key``

    @field_validator("into", "key", "target_key")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not IDENT.match(v):
            raise ValueError(f"{v!r} is not a plain snake_case identifier")
        return v


class Labels(BaseModel):
    """A permanent label on each feature: the field holding its text in each UI language, shown
    from ``min_zoom`` on (16 district names at city scale; zone names once they are a few pixels wide)."""

    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str
    min_zoom: int = Field(0, ge=0, le=22)

    def field(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class QuotaLedger(BaseModel):
    """A district layer of the quota ledger (land.quota_accounts): read for one year at a time
    (the map's year choice, gisapp.queries.years; its view reads ``gisapp_meta.reading_year()``
    and shows the latest year without one), and a click lists the district's escalations to the
    city of ``resources`` in that year."""

    model_config = ConfigDict(extra="forbid")
    resources: list[str] = Field(min_length=1)

    @field_validator("resources")
    @classmethod
    def _idents(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if not IDENT.match(r)]
        if bad:
            raise ValueError(f"resource codes {bad} are not plain identifiers")
        return v


class Access(BaseModel):
    model_config = ConfigDict(extra="forbid")
    read: list[str] = Field(default_factory=lambda: sorted(ROLES))
    edit: list[str] = Field(default_factory=list)

    @field_validator("read", "edit")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        unknown = set(v) - ROLES
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)}; known: {sorted(ROLES)}")
        return v


class Layer(BaseModel):
    """One map layer, declared once and used by the web map, tiles, exports and notebooks."""

    model_config = ConfigDict(extra="forbid")
    id: str
    title: Text
    description: Text | None = None
    source: str                       # schema-qualified view, e.g. layers.parcels
    geometry: str = "geom"
    id_field: str = "id"
    fields: list[FieldDecl]
    popup: list[str] = Field(default_factory=list)
    search: list[str] = Field(default_factory=list)
    style: Style = Field(default_factory=Style)
    zoom: Zoom = Field(default_factory=Zoom)
    #: below this zoom the viewport endpoint returns nothing but a count (zoom in to see)
    detail_min_zoom: int = Field(0, ge=0, le=22)
    max_features: int = Field(20000, ge=1, le=200000)
    #: below detail_min_zoom: counts per zone (or another layer); without it only a total count
    aggregate: Aggregate | None = None
    #: what a click on a feature opens: the parcel (by the feature's ``code``), the zone panel (its
    #: boundaries and dashboard) or the feature itself (its popup fields; a quota layer's also the
    #: district's escalations to the city in the year shown)
    detail: Literal["parcel", "zone", "feature"] = "feature"
    #: a district layer of the quota ledger, read for one year at a time (see QuotaLedger)
    quota: QuotaLedger | None = None
    visible: bool = True
    #: part of the base map (the city's outline, the districts): drawn behind every other layer and
    #: never takes a click, so the map is not blank offline, without a tile basemap
    base: bool = False
    #: labels drawn on the features (None: none; the names are in the popup)
    labels: Labels | None = None
    order: int = 100
    access: Access = Field(default_factory=Access)

    @field_validator("id", "geometry", "id_field")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not IDENT.match(v):
            raise ValueError(f"{v!r} is not a plain snake_case identifier")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        parts = v.split(".")
        if len(parts) != 2 or not all(IDENT.match(p) for p in parts):
            raise ValueError(f"source {v!r} must be schema.view")
        return v

    @model_validator(mode="after")
    def _references(self) -> Layer:
        names = {f.name for f in self.fields}
        for group, items in (("popup", self.popup), ("search", self.search)):
            missing = [p for p in items if p not in names]
            if missing:
                raise ValueError(f"{group} names fields not declared in 'fields': {missing}")
        if self.style.field and self.style.field not in names:
            raise ValueError(f"style field {self.style.field!r} is not declared in 'fields'")
        if self.detail == "parcel" and "code" not in names:
            raise ValueError("detail: parcel needs a 'code' field holding the parcel code")
        if self.labels:
            missing = [f for f in (self.labels.zh, self.labels.en) if f not in names]
            if missing:
                raise ValueError(f"labels name fields not declared in 'fields': {missing}")
        if self.quota and "year" not in names:
            raise ValueError("a quota layer needs a 'year' field (the year its features are of)")
        if self.aggregate and self.aggregate.key not in names:
            raise ValueError(f"aggregate key {self.aggregate.key!r} is not declared in 'fields'")
        return self

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def popup_fields(self, lang: str) -> list[FieldDecl]:
        """The popup's fields for a UI language (fields tagged with another language left out)."""
        decls = {f.name: f for f in self.fields}
        return [decls[name] for name in self.popup if decls[name].lang in (None, lang)]

    def label(self, field: str, lang: str) -> str:
        for f in self.fields:
            if f.name == field:
                return f.label.get(lang)
        return field
