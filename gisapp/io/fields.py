"""What each import kind accepts: canonical fields, their types and limits, and the header names
found in real files (Chinese headers, Shapefile's 10-character truncations) that mean them.

Columns an import does not know are ignored and listed once in the report, so a file exported by
``gisapp export`` (which carries derived columns such as ``land_use_zh`` or ``area_m2``) imports as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")
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

KINDS = {k.name: k for k in (PARCELS, ZONES, METRICS)}

#: Geometry columns of tabular files (CSV, Excel): WKT text, or lon/lat pairs for points.
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
#: A constant column naming the CRS of tabular exports (CSV/Excel carry no CRS of their own).
CRS_COLUMN = "crs"


def normalise_header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def match_columns(kind: KindSpec, columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map file columns to canonical fields: ({field: file column}, ignored columns).

    An exact canonical name wins over an alias, so a file with both ``code`` and ``zone_code``
    maps each to its own field.
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
    ignored = [c for c in columns if c not in used]
    return found, ignored
