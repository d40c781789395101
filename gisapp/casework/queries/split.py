"""The parcel split of a surplus land transfer (节余土地转让; docs/casework.md, "The parcel split"):
the case's parcel keeps the retained part, a new parcel gets the surplus. The database does the
split and holds every rule (land.split_parcel, sql/security/0940_parcel_split.sql); here the cut
is read from GeoJSON and the database's refusals become messages (``split.err.*`` of
gisapp.i18n) that say which part is wrong and why.

Example::

    split_parcel(engine, actor, "DX-2026-00012", {"cut": geojson_text, "new_code": "WGQ-00001-B",
                                                   "reason": "节余土地转让", "split_on": "2026-06-01"})
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gisapp.casework.queries.common import case_row, labels, refusal_detail, working
from gisapp.db.context import Actor
from gisapp.queries.edit_errors import FieldProblem, ValidationFailed
from gisapp.queries.edit_form import MAX_GEOM_DEPTH, MAX_REASON, UNSTORABLE, Form, flatten, nesting, shown

#: GeoJSON geometry types a cut may be: the surplus as a polygon, or a line dividing the parcel
CUT_TYPES = ("Polygon", "MultiPolygon", "LineString", "MultiLineString")
#: the refusals of land.split_parcel (GA003 DETAIL problem), each a message key split.err.<problem>
SPLIT_PROBLEMS = {
    "cut_empty", "cut_srid", "cut_type", "cut_invalid", "cut_not_crossing", "cut_whole_parcel", "cut_parts",
    "sliver", "part_invalid", "union_differs", "part_empty", "part_srid", "part_type", "part_no_boundary",
    "part_outside_boundary", "part_overlap", "code_taken", "split_case_parcel", "split_case_pathway",
    "split_status", "split_record",
}
#: a cut file is a few vertices; a megabyte is far beyond any drawn line
MAX_CUT_BYTES = 1_000_000


@dataclass(frozen=True)
class SplitResult:
    """What a split did: the case, the split record, the two parcels and their areas."""

    case_code: str
    split_id: int
    parcel_code: str
    new_parcel_code: str
    retained_area_m2: float
    surplus_area_m2: float


def read_cut(value: Any) -> str:
    """A cut given as GeoJSON (a geometry, a Feature, or a FeatureCollection of one feature) as
    the text of its geometry; ValidationFailed (field ``cut``) for anything else."""
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        raise ValidationFailed({"cut": FieldProblem("split.err.cut_required", {})})
    try:
        if isinstance(value, bytes):
            if len(value) > MAX_CUT_BYTES:
                raise ValueError(f"more than {MAX_CUT_BYTES // 1000} kB")
            value = value.decode("utf-8-sig")
        obj = json.loads(value) if isinstance(value, str) else value
        if isinstance(obj, Mapping) and obj.get("type") == "FeatureCollection":
            features = obj.get("features") or []
            if len(features) != 1:
                raise ValueError(f"one feature is needed, the collection has {len(features)}")
            obj = features[0]
        if isinstance(obj, Mapping) and obj.get("type") == "Feature":
            obj = obj.get("geometry") or {}
        if not isinstance(obj, Mapping):
            raise ValueError("a GeoJSON object is needed")
        if obj.get("type") not in CUT_TYPES:
            raise ValidationFailed({"cut": FieldProblem("split.err.cut_type", {"type": shown(obj.get("type"))})})
        coords = obj.get("coordinates")
        if nesting(coords, MAX_GEOM_DEPTH) > MAX_GEOM_DEPTH:
            raise ValidationFailed({"cut": FieldProblem("edit.err.geom_too_deep", {"max": MAX_GEOM_DEPTH})})
        if not all(math.isfinite(float(x)) for x in flatten(coords)):
            raise ValueError("coordinates must be finite numbers")
        return json.dumps({"type": obj["type"], "coordinates": coords})
    except RecursionError:  # a text nested deeper than the JSON reader goes
        raise ValidationFailed({"cut": FieldProblem("edit.err.geom_too_deep", {"max": MAX_GEOM_DEPTH})}) from None
    except (ValueError, TypeError, AttributeError, KeyError, OverflowError, UnicodeDecodeError) as exc:
        raise ValidationFailed({"cut": FieldProblem("split.err.cut_parse",
                                                    {"detail": UNSTORABLE.sub("\ufffd", str(exc)[:120])})}) from None


def _status_labels(codes: list[str] | str) -> dict[str, str]:
    from gisapp.queries.edit_errors import _STATUS_LABELS_CACHE as names

    codes = [codes] if isinstance(codes, str) else list(codes)
    return {lang: ("、" if lang == "zh" else ", ").join(names.get(c, {}).get(lang, c) for c in codes)
            for lang in ("zh", "en")}


def _split_problem(exc: BaseException | None) -> ValidationFailed | None:
    """land.split_parcel's refusal (GA003 with one of SPLIT_PROBLEMS) as a message of its own."""
    detail = refusal_detail(exc, SPLIT_PROBLEMS)
    if detail is None:
        return None
    problem = detail["problem"]
    values = {k: v for k, v in detail.items() if k not in ("field", "problem", "problems")}
    if "part" in values:
        values["part"] = labels("split.part", values["part"])
    if "neighbours" in values:
        values["neighbours"] = ", ".join(f"{n['code']} ({n['overlap_m2']} m²)" for n in values["neighbours"])
    if problem == "split_status":
        values["status"] = _status_labels(values.get("status") or "")
        values["allowed"] = _status_labels(values.get("allowed") or [])
    if "pathway" in values:
        values["pathway"] = labels("case_pathway", values["pathway"])
    return ValidationFailed({detail.get("field", "_form"): FieldProblem(f"split.err.{problem}", values)})


def split_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a split: ``cut`` (GeoJSON text, bytes of a file, or a mapping), ``new_code``,
    ``reason``, ``split_on`` (default today), ``version`` (of the parcel, optional)."""
    form = Form(data)
    values = {"new_code": form.text("new_code", required=True, max_len=100),
              "reason": form.text("reason", required=True, max_len=MAX_REASON),
              "split_on": form.date("split_on"),
              "version": form.integer("version", minimum=1) if data.get("version") not in (None, "") else None}
    try:
        values["cut"] = read_cut(data.get("cut"))
    except ValidationFailed as exc:
        form.problems.update(exc.problems)
    form.check()
    return values


def split_parcel(engine: Engine, actor: Actor, code: str, data: Mapping[str, Any]) -> SplitResult:
    """Split the parcel of surplus land transfer case ``code`` by ``data["cut"]`` (GeoJSON in
    EPSG:4490 lon/lat: a polygon, the surplus; or a line dividing the parcel, the smaller part
    the surplus) into its retained part and a new parcel ``new_code``; records the case's
    parcel_split step. One transaction as ``actor``; refusals are ValidationFailed with
    ``split.err.*`` keys, EditRefused, NotFoundError or EditConflict."""
    values = split_form(data)
    try:
        with working(engine, actor) as conn:
            case = case_row(conn, code)
            if case.parcel_code is None:
                raise ValidationFailed({"case": FieldProblem("split.err.split_case_pathway",
                                                             {"case": case.code,
                                                              "pathway": labels("case_pathway", case.pathway)})})
            try:
                split_id = conn.execute(sa.text(
                    "SELECT land.split_parcel(:code, ST_SetSRID(ST_GeomFromGeoJSON(:cut), 4490), :new_code, :reason, "
                    ":case_id, :split_on, :version)"),
                    {"code": case.parcel_code, "cut": values["cut"], "new_code": values["new_code"],
                     "reason": values["reason"], "case_id": case.id, "split_on": values["split_on"],
                     "version": values["version"]}).scalar_one()
            except sa.exc.DataError as exc:  # PostGIS could not read the GeoJSON
                raise ValidationFailed({"cut": FieldProblem(
                    "split.err.cut_parse", {"detail": str(exc.orig).splitlines()[0][:120]})}) from exc
            row = split_record(conn, split_id)
    except ValidationFailed as exc:
        mine = _split_problem(exc.__cause__)
        if mine is None:
            raise
        raise mine from exc.__cause__
    return SplitResult(code, split_id, row["parcel_code"], row["new_parcel_code"], row["retained_area_m2"],
                       row["surplus_area_m2"])


_SPLIT = """
    SELECT s.id, s.split_on, s.cut_kind, s.reason, s.done_by, s.original_area_m2, s.retained_area_m2,
           s.surplus_area_m2, o.code AS parcel_code, n.code AS new_parcel_code, c.code AS case_code,
           ST_AsGeoJSON(s.original_geom, 7) AS original, ST_AsGeoJSON(o.geom, 7) AS retained,
           ST_AsGeoJSON(n.geom, 7) AS surplus
    FROM land.parcel_splits s
    JOIN land.parcels o ON o.id = s.parcel_id JOIN land.parcels n ON n.id = s.new_parcel_id
    LEFT JOIN land.cases c ON c.id = s.case_id
"""


def split_record(conn: Connection, split_id: int) -> dict[str, Any]:
    row = conn.execute(sa.text(_SPLIT + " WHERE s.id = :id"), {"id": split_id}).mappings().one()
    return dict(row)


def case_split(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """The split made in a case (the parts as they are now, the original as it was), or None."""
    row = conn.execute(sa.text(_SPLIT + " WHERE s.case_id = :c"), {"c": case_id}).mappings().first()
    return dict(row) if row else None
