"""What each import kind accepts: canonical fields, their types and limits, and the header names
found in real files (Chinese headers, Shapefile's 10-character truncations) that mean them.

Columns an import does not take are listed in the report one by one with where their values belong
(:data:`ELSEWHERE`: computed from the geometry, a label derived from a code, another import), so a
file exported by ``gisapp export`` (which carries derived columns such as ``land_use_zh`` or
``area_m2``) imports as is, and a column of data that would be lost is never dropped without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Han characters (CJK unified ideographs and extension A): the land registry writes parcel codes
#: such as 外高桥-G1. Written as the characters themselves, not escapes, so that Python's ``re`` and
#: RE2 (Arrow's vectorised matcher, gisapp.io.values) read the same class.
HAN = "\u3400-\u4dbf\u4e00-\u9fff"
CODE_PATTERN = re.compile(f"^[A-Za-z0-9{HAN}][A-Za-z0-9{HAN}_.\\-/]{{0,63}}$")
ZONE_CODE_PATTERN = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class FieldSpec:
    """One importable field.

    kind: text | code | float | int | date | bool. ``min``/``max`` bound numbers (inclusive);
    ``max_len`` bounds text; ``pattern`` constrains codes.
    """

    name: str
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    max_len: int = 200
    pattern: re.Pattern | None = None
    label_zh: str = ""
    #: a multi-line free text (notes): newlines allowed
    multiline: bool = False

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class KindSpec:
    """An import kind: its fields and whether rows carry geometry."""

    name: str
    fields: tuple[FieldSpec, ...]
    geometry: str  # "polygon" | "optional_point" | "none"
    key: tuple[str, ...] = field(default_factory=tuple)

    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}


# Limits that keep values inside the columns' numeric types and physically plausible.
_AREA_MAX = 1e8          # m²: 100 km², larger than any zone
_MONEY_MAX = 1e11        # 万元 fits numeric(14, 2)

PARCELS = KindSpec("parcels", (
    FieldSpec("code", "code", True, ("parcel_code", "地块编号", "地块代码", "dkbh"), max_len=64, pattern=CODE_PATTERN,
              label_zh="地块编号"),
    FieldSpec("land_use_code", "code", True, ("land_use", "landuse", "land_use_c", "用地代码", "用地性质代码", "yddm"),
              max_len=16, label_zh="用地代码"),
    FieldSpec("zone_code", "code", False, ("zone", "园区编码"), max_len=64, pattern=ZONE_CODE_PATTERN,
              label_zh="园区编码"),
    FieldSpec("status", "code", False, ("状态代码", "状态", "parcel_status"), max_len=40, label_zh="状态"),
    FieldSpec("status_since", "date", False, ("status_sin", "状态起始日"), label_zh="状态起始日"),
    FieldSpec("enterprise_credit_code", "code", False, ("credit_code", "ent_credit", "统一社会信用代码"), max_len=18,
              pattern=re.compile(r"^[0-9A-Z]{18}$"), label_zh="统一社会信用代码"),
    FieldSpec("enterprise_zh", "text", False, ("enterprise", "ent_zh", "enterpris", "企业", "企业名称"),
              label_zh="企业"),
    FieldSpec("plot_ratio_min", "float", False, ("plot_ratio", "plot_min", "容积率下限"), min=0, max=50),
    FieldSpec("plot_ratio_max", "float", False, ("plot_max", "plot_rat_1", "容积率上限"), min=0, max=50),
    FieldSpec("floor_area_m2", "float", False, ("floor_area", "建筑面积"), min=0, max=_AREA_MAX),
    FieldSpec("building_footprint_m2", "float", False, ("footprint", "building_f", "建筑基底面积"), min=0,
              max=_AREA_MAX),
    FieldSpec("office_living_area_m2", "float", False, ("office_liv", "行政办公及生活服务设施面积"), min=0,
              max=_AREA_MAX),
    FieldSpec("is_synthetic", "bool", False, ("is_synthet", "合成数据")),
), geometry="polygon", key=("code",))

ZONES = KindSpec("zones", (
    FieldSpec("code", "code", True, ("zone_code", "编码", "园区编码"), max_len=64, pattern=ZONE_CODE_PATTERN,
              label_zh="编码"),
    FieldSpec("name_zh", "text", True, ("名称", "name"), label_zh="名称"),
    FieldSpec("name_en", "text", True, ("英文名称",), label_zh="英文名称"),
    FieldSpec("district_code", "code", False, ("district", "district_c"), max_len=40, label_zh="所在区编码"),
    FieldSpec("district_zh", "text", False, ("district_z", "所在区"), label_zh="所在区"),
    FieldSpec("district_en", "text", False, ("district_e",), label_zh="所在区（英文）"),
    FieldSpec("kind", "code", False, ("类型",), max_len=40, label_zh="类型"),
    FieldSpec("approved_on", "date", False, ("approved_o", "批准日期"), label_zh="批准日期"),
    FieldSpec("approved_area_m2", "float", False, ("approved_a", "批准面积"), min=1, max=1e9, label_zh="批准面积"),
    FieldSpec("approved_area_is_demo", "bool", False, ("approved_1", "area_demo", "面积为演示值")),
    FieldSpec("region", "code", False, (), max_len=20),
    FieldSpec("is_synthetic", "bool", False, ("is_synthet", "合成数据")),
    FieldSpec("valid_from", "date", False, ("boundary_valid_from", "boundary_v", "生效日期"), label_zh="边界生效日期"),
    FieldSpec("approval_ref", "text", False, ("approval_r", "批复文号"), max_len=500, label_zh="批复文号"),
), geometry="polygon", key=("code",))

METRICS = KindSpec("metrics", (
    FieldSpec("parcel_code", "code", False, ("code", "地块编号", "parcel_cod"), max_len=64, pattern=CODE_PATTERN,
              label_zh="地块编号"),
    FieldSpec("enterprise_credit_code", "code", False, ("credit_code", "统一社会信用代码"), max_len=18,
              pattern=re.compile(r"^[0-9A-Z]{18}$"), label_zh="统一社会信用代码"),
    FieldSpec("enterprise_zh", "text", False, ("enterprise", "企业", "企业名称"), label_zh="企业"),
    FieldSpec("year", "int", True, ("年度", "年份"), min=1990, max=2100, label_zh="年度"),
    FieldSpec("grading_category", "code", False, ("category", "参评类别"), max_len=30, label_zh="参评类别"),
    FieldSpec("revenue_wan", "float", False, ("revenue", "营业收入"), min=0, max=_MONEY_MAX, label_zh="营业收入（万元）"),
    FieldSpec("tax_wan", "float", False, ("tax", "税收", "实缴税金"), min=0, max=_MONEY_MAX, label_zh="税收（万元）"),
    FieldSpec("value_added_wan", "float", False, ("value_added", "工业增加值", "增加值"), min=-_MONEY_MAX,
              max=_MONEY_MAX, label_zh="增加值（万元）"),
    FieldSpec("energy_tce", "float", False, ("energy", "综合能耗"), min=0, max=1e10, label_zh="综合能耗（吨标煤）"),
    FieldSpec("electricity_kwh", "float", False, ("electricity", "用电量"), min=0, max=1e13, label_zh="用电量（千瓦时）"),
    FieldSpec("emissions_t", "float", False, ("emissions", "排放量"), min=0, max=1e10, label_zh="主要污染物排放（吨）"),
    FieldSpec("employees", "int", False, ("从业人员", "职工人数"), min=0, max=10_000_000, label_zh="从业人员"),
    FieldSpec("rd_spend_wan", "float", False, ("rd_spend", "研发投入"), min=0, max=_MONEY_MAX, label_zh="研发投入（万元）"),
), geometry="optional_point", key=("parcel_code", "enterprise", "year"))

#: the districts zones belong to, with their boundaries (e.g. gisapp/data/districts, GCJ-02: --crs gcj02)
DISTRICTS = KindSpec("districts", (
    FieldSpec("code", "code", True, ("district_code", "adcode", "区划代码", "编码"), max_len=64,
              pattern=ZONE_CODE_PATTERN, label_zh="区划代码"),
    FieldSpec("name_zh", "text", True, ("名称", "name", "district_zh"), label_zh="名称"),
    FieldSpec("name_en", "text", True, ("英文名称", "district_en"), label_zh="英文名称"),
), geometry="polygon", key=("code",))

KINDS = {k.name: k for k in (PARCELS, ZONES, METRICS, DISTRICTS)}


@dataclass(frozen=True)
class Elsewhere:
    """A column an import kind does not import, and where its values belong.

    ``where`` completes the sentence "<column>: ..."; ``data`` says the column holds data a person
    may expect imported (a warning, not an info line); ``spec``, when given, is what a plausible
    value looks like: impossible values in such a column (an area of -50 m²) mean the file is not
    what it seems, and are reported even though the column is not imported.
    """

    where: str
    data: bool = False
    spec: FieldSpec | None = None


_AREA_SPEC = FieldSpec("area_m2", "float", min=0, max=_AREA_MAX)
_KEPT_BY_DB = Elsewhere("kept by the database (ids, versions, who changed a row when)")
_COMPUTED_AREA = Elsewhere("computed from the geometry on the ellipsoid; the file's value is compared with it",
                           spec=_AREA_SPEC)
_GREEN = Elsewhere("green space is recorded per measurement on the parcel's page (绿地), not by file import",
                   data=True, spec=FieldSpec("green_area_m2", "float", min=0, max=_AREA_MAX))
_METRIC_FIELDS = [f for f in METRICS.fields if f.name not in ("parcel_code", "enterprise_credit_code",
                                                                 "enterprise_zh")]
_TO_METRICS = {n: Elsewhere("an enterprise's annual figure: import it with `gisapp import metrics` "
                            "(one row per parcel and year)", data=True, spec=f if f.kind in ("float", "int") else None)
               for f in _METRIC_FIELDS for n in f.all_names}
_DB_COLUMNS = {n: _KEPT_BY_DB for n in ("id", "fid", "objectid", "ogc_fid", "version", "updated_at", "updated_by",
                                        "created_at")}
_LABEL = "a label the database looks up from {code}"

#: columns each kind leaves out on purpose: header (normalised, see :func:`normalise_header`) -> where it belongs
ELSEWHERE: dict[str, dict[str, Elsewhere]] = {
    "parcels": {
        **_TO_METRICS, **_DB_COLUMNS,
        **dict.fromkeys(("area_m2", "area", "面积", "地块面积", "dkmj"), _COMPUTED_AREA),
        **dict.fromkeys(("green_area_m2", "green_area", "绿地面积"), _GREEN),
        **dict.fromkeys(("zone_name_zh", "zone_name_en", "zone_name", "所在园区"),
                        Elsewhere(_LABEL.format(code="the zone the parcel lies in"))),
        **dict.fromkeys(("land_use_zh", "land_use_en", "用地性质"), Elsewhere(_LABEL.format(code="land_use_code"))),
        **dict.fromkeys(("status_zh", "status_en"), Elsewhere(_LABEL.format(code="status"))),
        "enterprise_en": Elsewhere(_LABEL.format(code="the enterprise (enterprise_zh or enterprise_credit_code)")),
        "crs": Elsewhere("names the file's coordinate system (read as its CRS)"),
    },
    "zones": {
        **_DB_COLUMNS,
        **dict.fromkeys(("boundary_area_m2", "area_m2", "area", "面积"), _COMPUTED_AREA),
        **dict.fromkeys(("district_id",), _KEPT_BY_DB),
        **dict.fromkeys(("land_use_code", "status", "enterprise_zh"),
                        Elsewhere("a parcel's field: parcels are imported with `gisapp import parcels`", data=True)),
        "crs": Elsewhere("names the file's coordinate system (read as its CRS)"),
    },
    "districts": {
        **_DB_COLUMNS,
        **dict.fromkeys(("area_m2", "area", "面积"), _COMPUTED_AREA),
        "crs": Elsewhere("names the file's coordinate system (read as its CRS)"),
    },
    "metrics": {
        **_DB_COLUMNS,
        **dict.fromkeys(("green_area_m2", "green_area", "绿地面积"), _GREEN),
        **dict.fromkeys(("land_use_code", "status", "floor_area_m2"),
                        Elsewhere("a parcel's field: parcels are imported with `gisapp import parcels`", data=True)),
        "crs": Elsewhere("names the file's coordinate system (read as its CRS)"),
    },
}

#: Geometry columns of tabular files (CSV, Excel): WKT text, or lon/lat pairs for points.
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
#: A constant column naming the CRS of tabular exports (CSV/Excel carry no CRS of their own).
CRS_COLUMN = "crs"


def normalise_header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


#: the Shapefile format keeps 10 bytes of a column name (dBase): GDAL cuts longer names there
SHAPEFILE_NAME_BYTES = 10


def truncations(name: str) -> set[str]:
    """What the Shapefile format may have left of ``name``: its first 10 characters, and its
    first 10 bytes in UTF-8 and in GBK (Chinese names lose characters, not bytes, at the cut);
    empty when the name fits."""
    out = set()
    if len(name) > SHAPEFILE_NAME_BYTES:
        out.add(name[:SHAPEFILE_NAME_BYTES])
    for encoding in ("utf-8", "gbk"):
        try:
            raw = name.encode(encoding)
        except UnicodeEncodeError:
            continue
        if len(raw) > SHAPEFILE_NAME_BYTES:
            cut = raw[:SHAPEFILE_NAME_BYTES].decode(encoding, errors="ignore")
            if cut:
                out.add(cut)
    return out


def _truncated_fields(kind: KindSpec) -> dict[str, set[str]]:
    """Cut header -> the fields whose name or an alias it may be the cut of."""
    table: dict[str, set[str]] = {}
    for spec in kind.fields:
        for name in spec.all_names:
            for cut in truncations(normalise_header(name)):
                table.setdefault(cut, set()).add(spec.name)
    return table


def match_columns(kind: KindSpec, columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map file columns to canonical fields: ({field: file column}, ignored columns).

    An exact canonical name wins over an alias, so a file with both ``code`` and ``zone_code``
    maps each to its own field. A header the Shapefile format cut to 10 characters (``parcel_cod``)
    means the field whose name or alias it is the start of, when only one field's names start so
    and no column names that field in full.
    """
    norm = {normalise_header(c): c for c in columns}
    found: dict[str, str] = {}
    used: set[str] = set()
    for spec in kind.fields:
        if spec.name in norm and norm[spec.name] not in used:
            found[spec.name] = norm[spec.name]
            used.add(norm[spec.name])
    for spec in kind.fields:
        if spec.name in found:
            continue
        for alias in spec.aliases:
            col = norm.get(normalise_header(alias))
            if col is not None and col not in used:
                found[spec.name] = col
                used.add(col)
                break
    cuts = _truncated_fields(kind)
    for header, col in norm.items():
        if col in used:
            continue
        fields = cuts.get(header, set())
        if len(fields) == 1 and (name := next(iter(fields))) not in found:
            found[name] = col
            used.add(col)
    ignored = [c for c in columns if c not in used]
    return found, ignored


def wanted_columns(kind: KindSpec) -> list[str]:
    """Every header an import of ``kind`` reads from a file (its fields' names and aliases, their
    Shapefile cuts, the CRS column, and the columns of :data:`ELSEWHERE` whose values are checked)."""
    names = [n for f in kind.fields for n in f.all_names]
    names += [cut for n in list(names) for cut in truncations(normalise_header(n))]
    names += [n for n, e in ELSEWHERE.get(kind.name, {}).items() if e.spec is not None]
    names += [cut for n, e in ELSEWHERE.get(kind.name, {}).items() if e.spec is not None for cut in truncations(n)]
    return [*dict.fromkeys(names), CRS_COLUMN]


def elsewhere(kind: KindSpec, column: str) -> Elsewhere | None:
    """Where the values of ``column`` (not imported by ``kind``) belong, when known; a header cut
    by the Shapefile format is recognised as for :func:`match_columns`."""
    table = ELSEWHERE.get(kind.name, {})
    header = normalise_header(column)
    if header in table:
        return table[header]
    found = {id(e): e for n, e in table.items() if header in truncations(n)}
    return next(iter(found.values())) if len(found) == 1 else None


def ambiguous_cut(kind: KindSpec, column: str) -> list[str]:
    """The fields a header cut to 10 characters could mean, when it could mean several."""
    fields = _truncated_fields(kind).get(normalise_header(column), set())
    return sorted(fields) if len(fields) > 1 else []
