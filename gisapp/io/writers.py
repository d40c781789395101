"""Write a frame to GeoPackage, Shapefile (zip), GeoJSON, CSV, Excel or KML in a chosen CRS.

Geometry arrives in EPSG:4490 and leaves in the requested CRS (GCJ-02 and BD-09 included).
Formats without a CRS of their own (CSV, Excel) carry a ``crs`` column; a GCJ-02 GeoPackage or
Shapefile carries a CRS named "GCJ-02", which :func:`gisapp.io.crs.from_pyproj` recognises on
import. Text that a spreadsheet would run as a formula is written with a leading apostrophe.

Two formats have limits of their own, and what is done about them is said (through ``warn``) and
written into the file: KML is WGS84 whatever was asked, so another CRS is reprojected to WGS84;
a Shapefile's DBF holds at most 254 bytes of text, so longer texts are cut in the DBF and kept
whole in a sidecar CSV next to the ``.shp``. Styling is plain data from the caller (``kml_style``):
this package does not read layer styles (gisapp.render does, and io may not import it).

Example:
    >>> write_frame(gdf, "parcels.gpkg", crs="gcj02")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyproj import CRS

from gisapp.errors import InputError
from gisapp.io import crs as crsmod
from gisapp.io.fields import CRS_COLUMN
from gisapp.io.readers import FIELDS_SIDECAR

FORMATS = {"gpkg": ".gpkg", "shp": ".zip", "geojson": ".geojson", "csv": ".csv", "xlsx": ".xlsx", "kml": ".kml"}
_SUFFIX_FORMAT = {".gpkg": "gpkg", ".zip": "shp", ".shp": "shp", ".geojson": "geojson", ".json": "geojson",
                  ".csv": "csv", ".xlsx": "xlsx", ".kml": "kml"}
EXCEL_MAX_ROWS = 1_048_575
#: the Excel sheet that says what the file holds (CRS, note, each column's labels)
ABOUT_SHEET = "说明 About"
EXCEL_MAX_CELL = 32_767
#: bytes a DBF text field holds; the Shapefile is written in UTF-8, where a Chinese character takes 3
DBF_TEXT_BYTES = 254
#: ends a text cut to fit the DBF, so nobody takes the cut value for the whole one
CUT_MARK = "…"
#: KML's coordinates are WGS84 lon/lat by the standard (OGC 12-007r2), whatever the file says
KML_CRS = "EPSG:4326"
#: the LIBKML driver turns this field into each placemark's <Style> (GDAL's feature style string)
_OGR_STYLE = "OGR_STYLE"
_HEX = r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})"
log = logging.getLogger(__name__)
# A lon/lat CRS named for what it is: WGS 84 with the GCJ-02 (or BD-09) offset, which no EPSG code names.
_OFFSET_WKT = ('GEOGCRS["{name}",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]],'
               'CS[ellipsoidal,2],AXIS["longitude",east,ANGLEUNIT["degree",0.0174532925199433]],'
               'AXIS["latitude",north,ANGLEUNIT["degree",0.0174532925199433]],'
               'REMARK["lon/lat with the {name} offset of Chinese web maps; no EPSG code"]]')


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The format named by ``fmt`` or by the file's suffix, or an InputError listing the choices."""
    if fmt:
        key = fmt.lower().lstrip(".")
        key = {"shapefile": "shp", "zip": "shp", "json": "geojson", "excel": "xlsx", "geopackage": "gpkg"}.get(key, key)
        if key not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return key
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_FORMAT:
        raise InputError(f"cannot tell the format of {Path(path).name!r} from its suffix; give --format "
                         f"({', '.join(FORMATS)})")
    return _SUFFIX_FORMAT[suffix]


def offset_crs(spec: crsmod.CrsSpec) -> CRS:
    return CRS.from_wkt(_OFFSET_WKT.format(name=spec.label))


def _file_crs(spec: crsmod.CrsSpec) -> CRS:
    return offset_crs(spec) if spec.offset else spec.crs


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns every driver takes: Decimal -> float, tz-aware -> naive UTC, nullable ints kept."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object:
            sample = s.dropna()
            first = sample.iloc[0] if len(sample) else None
            if first is not None and type(first).__name__ == "Decimal":
                out[col] = pd.to_numeric(s, errors="coerce").astype(float)
            elif isinstance(first, dt.datetime) and first.tzinfo is not None:
                out[col] = pd.to_datetime(s, utc=True).dt.tz_localize(None)
            elif isinstance(first, (dict, list)):
                out[col] = s.map(lambda v: None if v is None else str(v))
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def _defuse(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text that starts like a formula with an apostrophe (CSV/Excel injection)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            mask = s.astype("string").str.match(r"^[=+\-@]").fillna(False).to_numpy(dtype=bool)
            if mask.any():
                out.loc[mask, col] = "'" + s[mask].astype(str)
    return out


def write_frame(gdf: gpd.GeoDataFrame, path: str | Path, fmt: str | None = None, crs: str = "EPSG:4490",
                layer_name: str | None = None, labels: dict[str, tuple[str, str]] | None = None,
                note: str | None = None, id_field: str | None = None, name_field: str | None = None,
                kml_style: dict[str, object] | None = None, warn: Callable[[str], None] | None = None,
                append: bool = False) -> Path:
    """Write ``gdf`` (geometry in EPSG:4490) to ``path`` and return the path written.

    Args:
        labels: column -> (Chinese, English) label, written to Excel's 说明 sheet and the Shapefile's
            ``fields.csv``.
        note: e.g. "synthetic demo data"; goes into the Excel sheet, the KML's description and the
            GeoPackage layer's description.
        id_field: the column that identifies a feature: the key of the Shapefile's long-text sidecar.
        name_field: the column whose value names each KML placemark.
        kml_style: per-feature style of KML placemarks, one entry per row: ``fill`` and ``line``
            (``#rrggbb``), ``fill_opacity`` (0-1) and ``width`` (pixels); sequences or scalars.
        warn: called with each thing the file could not hold as asked (KML reprojected, Shapefile
            texts cut); default: logged as a warning. The same sentence is written into the file.
        append: add ``layer_name`` to the GeoPackage or Excel file already at ``path`` (a layer, a
            sheet; the Excel 说明 sheet lists the new columns too) instead of replacing the file.

    Example:
        >>> write_frame(gdf, "p.kml", crs="EPSG:4549", warn=print)  # doctest: +SKIP
        p.kml: KML is always WGS84 (EPSG:4326): written in WGS84, not in the EPSG:4549 asked for ...
    """
    path = Path(path)
    fmt = format_for(path, fmt)
    spec = crsmod.resolve_crs(crs)
    layer_name = layer_name or path.stem
    warn = warn or log.warning
    crs_note = None
    if fmt == "kml" and not crsmod.keeps_coordinates(spec):
        # every KML reader takes the coordinates as WGS84 lon/lat: relabelling is not enough (GDAL
        # refuses projected metres; Google Earth draws GCJ-02 ~500 m off), so reproject and say so
        crs_note = (f"KML is always WGS84 ({KML_CRS}): written in WGS84, not in the {spec.label} asked for; "
                    f"export GeoPackage or Shapefile to get {spec.label}")
        spec = crsmod.resolve_crs(KML_CRS)
    if gdf.crs is not None and CRS(gdf.crs).to_epsg() != crsmod.STORAGE_EPSG:
        gdf = gdf.to_crs(crsmod.STORAGE_EPSG)
    geoms = crsmod.from_storage(np.asarray(gdf.geometry.values, dtype=object), spec)
    attrs = _plain(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    path.parent.mkdir(parents=True, exist_ok=True)
    if append and fmt not in ("gpkg", "xlsx"):
        raise InputError(f"{path.name}: only a GeoPackage or an Excel file holds more than one layer")
    append = append and path.exists()
    if fmt in ("csv", "xlsx"):
        _write_table(attrs, geoms, path, fmt, spec, layer_name, labels, note, append)
    elif fmt == "shp":
        cut_note = _write_shapefile_zip(attrs, geoms, path, spec, layer_name, labels, id_field)
        if cut_note:
            warn(cut_note)
    elif fmt == "kml":
        if crs_note:
            warn(f"{path.name}: {crs_note}")
        _write_kml(attrs, geoms, path, layer_name, [n for n in (note, crs_note) if n], name_field, kml_style)
    else:
        out = gpd.GeoDataFrame(attrs, geometry=list(geoms), crs=_file_crs(spec))
        if path.exists() and not append:
            path.unlink()
        if fmt == "gpkg":
            # the note (e.g. synthetic demo data) as the layer's description in gpkg_contents
            pyogrio.write_dataframe(out, path, layer=layer_name, driver="GPKG", use_arrow=True,
                                    layer_options={"DESCRIPTION": note} if note else None)
        elif fmt == "geojson":
            pyogrio.write_dataframe(out, path, driver="GeoJSON", layer=layer_name,
                                    layer_options={"WRITE_NAME": "YES"})
    return path


def _hex_rgba(colour: pd.Series, opacity: pd.Series) -> pd.Series:
    """``#rrggbb`` (or ``#rgb``) + opacity -> OGR's ``#RRGGBBAA`` (LIBKML writes KML's aabbggrr from
    it); anything else -> NA, so that feature is drawn in the viewer's default style."""
    text = colour.astype("string").str.strip()
    ok = text.str.fullmatch(_HEX).fillna(False).astype(bool)
    rgb = text.str.replace(r"^#(\w)(\w)(\w)$", r"#\1\1\2\2\3\3", regex=True).str.lstrip("#").str.upper()
    alpha = (opacity.astype(float).clip(0, 1) * 255).round().astype(int).map("{:02X}".format).astype("string")
    return ("#" + rgb + alpha).where(ok, pd.NA)


def _ogr_styles(n: int, kml_style: dict[str, object]) -> np.ndarray:
    """One OGR feature style string per row (``BRUSH(fc:...);PEN(c:...,w:...px)``), column-wise."""
    def column(key: str, default) -> pd.Series:
        value = kml_style.get(key, default)
        if np.ndim(value) == 0:
            return pd.Series([value] * n, dtype=object)
        return pd.Series(np.asarray(value, dtype=object))

    fill = _hex_rgba(column("fill", None), pd.to_numeric(column("fill_opacity", 1.0)).fillna(1.0))
    line = _hex_rgba(column("line", None), pd.Series(np.ones(n)))
    width = pd.to_numeric(column("width", 1.0)).fillna(1.0).map("{:g}".format).astype("string")
    brush = ("BRUSH(fc:" + fill + ")").fillna("")
    pen = ("PEN(c:" + line + ",w:" + width + "px)").fillna("")
    styles = (brush + ";" + pen).str.strip(";")
    return styles.astype(object).where(styles != "", None).to_numpy(dtype=object)


def _write_kml(attrs: pd.DataFrame, geoms: np.ndarray, path: Path, layer_name: str, notes: list[str],
               name_field: str | None, kml_style: dict | None) -> None:
    out = gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=list(geoms), crs=KML_CRS)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.BooleanDtype):
            out[col] = out[col].astype("Int32")  # LIBKML has no boolean field type
    if name_field and name_field in out.columns and "name" not in out.columns:
        # LIBKML writes the field called "name" as the placemark's <name>: what Google Earth lists
        out.insert(0, "name", out[name_field].astype("string"))
    if kml_style:
        out[_OGR_STYLE] = _ogr_styles(len(out), kml_style)
    if path.exists():
        path.unlink()
    options = {"NAME": layer_name}
    if notes:
        options["DESCRIPTION"] = "\n".join(notes)
    pyogrio.write_dataframe(out, path, driver="LIBKML", layer=layer_name, dataset_options=options)


def _write_table(attrs: pd.DataFrame, geoms: np.ndarray, path: Path, fmt: str, spec: crsmod.CrsSpec,
                 layer_name: str, labels: dict | None, note: str | None, append: bool = False) -> None:
    table = _defuse(attrs)
    wkt = shapely.to_wkt(geoms, rounding_precision=-1, trim=True)
    table["wkt"] = wkt
    table[CRS_COLUMN] = spec.label
    if fmt == "csv":
        # utf-8-sig: Excel opens the Chinese text correctly
        table.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
        return
    if len(table) > EXCEL_MAX_ROWS:
        raise InputError(f"{path.name}: {len(table):,} rows do not fit an Excel sheet (at most {EXCEL_MAX_ROWS:,}); "
                         "filter by zone or bbox, or export GeoPackage or CSV")
    too_long = np.flatnonzero(pd.Series(wkt).str.len().fillna(0).to_numpy() > EXCEL_MAX_CELL)
    if too_long.size:
        raise InputError(f"{path.name}: the geometry of row {too_long[0] + 2} has more than {EXCEL_MAX_CELL} "
                         "characters of WKT, more than an Excel cell holds; export GeoPackage or CSV instead")
    for col in table.columns:
        if isinstance(table[col].dtype, pd.DatetimeTZDtype):
            table[col] = table[col].dt.tz_localize(None)
    about = [("crs", spec.label, "坐标系", "Coordinate reference system")]
    if note:
        about.append(("note", note, "说明", "Note"))
    about += [(c, "", *(labels or {}).get(c, ("", ""))) for c in table.columns]
    about_frame = pd.DataFrame(about, columns=["field", "value", "label_zh", "label_en"])
    if append:
        # one 说明 sheet for the file: the rows it has, then the new sheet's columns it lacks
        before = pd.read_excel(path, sheet_name=ABOUT_SHEET, dtype=str).fillna("")
        about_frame = pd.concat([before, about_frame[~about_frame["field"].isin(before["field"])]],
                                ignore_index=True)
    with pd.ExcelWriter(path, engine="openpyxl", **({"mode": "a", "if_sheet_exists": "replace"} if append else {})) \
            as xl:
        table.to_excel(xl, sheet_name=layer_name[:31], index=False)
        about_frame.to_excel(xl, sheet_name=ABOUT_SHEET, index=False)


def shapefile_names(columns: list[str]) -> dict[str, str]:
    """DBF field names (at most 10 characters), unique, stable: full name -> short name."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        short = col[:10]
        k = 1
        while short.lower() in taken:
            suffix = f"_{k}"
            short = col[:10 - len(suffix)] + suffix
            k += 1
        taken.add(short.lower())
        out[col] = short
    return out


def _long_texts(attrs: pd.DataFrame, limit: int = DBF_TEXT_BYTES) -> dict[str, np.ndarray]:
    """column -> positions of its texts longer than ``limit`` bytes of UTF-8.

    Counted by Arrow in one pass per text column (Arrow strings are UTF-8, so the byte length is
    the DBF's): no Python loop over a million rows for the common case where nothing is too long.
    """
    found = {}
    for col in attrs.columns:
        s = attrs[col]
        if pd.api.types.is_object_dtype(s):
            # infer_dtype is one C pass; only a column that really mixes text with other values
            # (rare: _plain turned dicts and lists into text) is measured value by value
            kind = pd.api.types.infer_dtype(s, skipna=True)
            if kind not in ("string", "mixed"):
                continue
            if kind == "mixed":
                s = s.map(lambda v: v if isinstance(v, str) else None)
        elif not pd.api.types.is_string_dtype(s):
            continue
        nbytes = pc.binary_length(pa.array(s, type=pa.string(), from_pandas=True))
        rows = np.flatnonzero(pc.fill_null(pc.greater(nbytes, limit), False).to_numpy(zero_copy_only=False))
        if rows.size:
            found[col] = rows
    return found


def _cut(text: str, limit: int = DBF_TEXT_BYTES) -> str:
    """``text`` cut on a character boundary (never half a UTF-8 sequence) to fit ``limit`` bytes
    with the cut mark."""
    room = limit - len(CUT_MARK.encode("utf-8"))
    return text.encode("utf-8")[:room].decode("utf-8", errors="ignore") + CUT_MARK


def _dbf_dates(attrs: pd.DataFrame) -> pd.DataFrame:
    """Date columns as Arrow date32, which GDAL writes as DBF dates (type D): pyogrio's default
    path writes them as text (and datetime64 too: "created as String field").

    A timestamp with a time of day stays text (ISO 8601): a DBF date would drop the time silently.
    """
    out = attrs
    for col in attrs.columns:
        s = attrs[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            stamps = s
        elif s.dtype == object:
            sample = s.dropna()
            first = sample.iloc[0] if len(sample) else None
            if not isinstance(first, dt.date):
                continue
            stamps = pd.to_datetime(s, errors="coerce")
            if stamps.notna().sum() != len(sample):  # not all dates: leave the column as it is
                continue
        else:
            continue
        if out is attrs:
            out = attrs.copy()
        if bool((stamps.dropna() == stamps.dropna().dt.normalize()).all()):
            out[col] = stamps.astype("datetime64[s]").astype(pd.ArrowDtype(pa.timestamp("s"))).astype(
                pd.ArrowDtype(pa.date32()))
        else:
            out[col] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object).where(stamps.notna(), None)
    return out


def _write_shapefile_zip(attrs: pd.DataFrame, geoms: np.ndarray, path: Path, spec: crsmod.CrsSpec,
                         layer_name: str, labels: dict | None, id_field: str | None) -> str | None:
    """Write the zip; return the warning about texts cut to fit the DBF, or None."""
    names = shapefile_names(list(attrs.columns))
    long = _long_texts(attrs)
    sidecar_name, sidecar, warning = f"{layer_name}_long_texts.csv", None, None
    if long:
        key = id_field if id_field in attrs.columns else None
        keys = attrs[key].to_numpy(dtype=object) if key else np.arange(1, len(attrs) + 1)
        parts, attrs = [], attrs.copy()
        for col, rows in long.items():
            whole = attrs[col].iloc[rows]
            parts.append(pd.DataFrame({key or "feature": keys[rows], "field": col, "dbf_field": names[col],
                                       "value": whole.to_numpy(dtype=object)}))
            if not pd.api.types.is_object_dtype(attrs[col]):
                attrs[col] = attrs[col].astype(object)
            attrs.iloc[rows, attrs.columns.get_loc(col)] = [_cut(v) for v in whole]
        sidecar = pd.concat(parts, ignore_index=True)
        counts = ", ".join(f"{col} ({len(rows)})" for col, rows in long.items())
        warning = (f"{path.name}: {len(sidecar)} text values longer than a Shapefile field holds ({DBF_TEXT_BYTES} "
                   f"bytes of UTF-8; a Chinese character takes 3) in {counts}: cut in the .dbf (ending with "
                   f"{CUT_MARK}) and written whole to {sidecar_name} in the zip, keyed by "
                   f"{key or 'feature number'}")
    out = gpd.GeoDataFrame(_dbf_dates(attrs).rename(columns=names), geometry=list(geoms), crs=_file_crs(spec))
    for col in out.columns:
        if out[col].dtype == bool or isinstance(out[col].dtype, pd.BooleanDtype):
            out[col] = out[col].astype("Int32")  # DBF logicals read back unevenly; 1/0 is unambiguous
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{layer_name}.shp"
        # Arrow: the only path on which pyogrio hands GDAL a date field (date32 -> DBF type D)
        pyogrio.write_dataframe(out, shp, driver="ESRI Shapefile", use_arrow=True, layer_options={"ENCODING": "UTF-8"})
        with open(Path(tmp) / FIELDS_SIDECAR, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["short", "name", "label_zh", "label_en"])
            for full, short in names.items():
                writer.writerow([short, full, *(labels or {}).get(full, ("", ""))])
        if sidecar is not None:
            # utf-8-sig: Excel opens the Chinese text correctly
            sidecar.to_csv(Path(tmp) / sidecar_name, index=False, encoding="utf-8-sig")
        tmp_zip = Path(tmp) / "out.zip"
        with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
            for member in sorted(Path(tmp).iterdir()):
                if member.name != "out.zip":
                    zf.write(member, member.name)
        shutil.move(str(tmp_zip), path)
    return warning
