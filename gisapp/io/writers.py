"""Write a frame to GeoPackage, Shapefile (zip), GeoJSON, CSV, Excel or KML in a chosen CRS.

Geometry arrives in EPSG:4490 and leaves in the requested CRS (GCJ-02 and BD-09 included).
Formats without a CRS of their own (CSV, Excel) carry a ``crs`` column; a GCJ-02 GeoPackage or
Shapefile carries a CRS named "GCJ-02", which :func:`gisapp.io.crs.from_pyproj` recognises on
import. Text that a spreadsheet would run as a formula is written with a leading apostrophe.

Example:
    >>> write_frame(gdf, "parcels.gpkg", crs="gcj02")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
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
EXCEL_MAX_CELL = 32_767
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
                note: str | None = None) -> Path:
    """Write ``gdf`` (geometry in EPSG:4490) to ``path`` and return the path written.

    ``labels`` maps column -> (Chinese, English) label, written to Excel's 说明 sheet and the
    Shapefile sidecar; ``note`` (e.g. "synthetic demo data") goes into the Excel sheet and KML.
    """
    path = Path(path)
    fmt = format_for(path, fmt)
    spec = crsmod.resolve_crs(crs)
    layer_name = layer_name or path.stem
    if gdf.crs is not None and CRS(gdf.crs).to_epsg() != crsmod.STORAGE_EPSG:
        gdf = gdf.to_crs(crsmod.STORAGE_EPSG)
    geoms = crsmod.from_storage(np.asarray(gdf.geometry.values, dtype=object), spec)
    attrs = _plain(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "xlsx"):
        _write_table(attrs, geoms, path, fmt, spec, layer_name, labels, note)
    elif fmt == "shp":
        _write_shapefile_zip(attrs, geoms, path, spec, layer_name, labels)
    else:
        out = gpd.GeoDataFrame(attrs, geometry=list(geoms), crs=_file_crs(spec))
        if path.exists():
            path.unlink()
        if fmt == "gpkg":
            pyogrio.write_dataframe(out, path, layer=layer_name, driver="GPKG", use_arrow=True)
        elif fmt == "geojson":
            pyogrio.write_dataframe(out, path, driver="GeoJSON", layer=layer_name,
                                    layer_options={"WRITE_NAME": "YES"})
        elif fmt == "kml":
            # KML is WGS84 by definition; GCJ-02 coordinates are written as they are, labelled in the name
            out = out.set_crs(4326, allow_override=True)
            pyogrio.write_dataframe(out, path, driver="LIBKML", layer=layer_name)
    return path


def _write_table(attrs: pd.DataFrame, geoms: np.ndarray, path: Path, fmt: str, spec: crsmod.CrsSpec,
                 layer_name: str, labels: dict | None, note: str | None) -> None:
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
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        table.to_excel(xl, sheet_name=layer_name[:31], index=False)
        about = [("crs", spec.label, "坐标系", "Coordinate reference system")]
        if note:
            about.append(("note", note, "说明", "Note"))
        about += [(c, "", *(labels or {}).get(c, ("", ""))) for c in table.columns]
        pd.DataFrame(about, columns=["field", "value", "label_zh", "label_en"]).to_excel(
            xl, sheet_name="说明 About", index=False)


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


def _write_shapefile_zip(attrs: pd.DataFrame, geoms: np.ndarray, path: Path, spec: crsmod.CrsSpec,
                         layer_name: str, labels: dict | None) -> None:
    names = shapefile_names(list(attrs.columns))
    out = gpd.GeoDataFrame(attrs.rename(columns=names), geometry=list(geoms), crs=_file_crs(spec))
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].astype(np.int32)  # DBF logicals read back unevenly; 1/0 is unambiguous
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{layer_name}.shp"
        pyogrio.write_dataframe(out, shp, driver="ESRI Shapefile", encoding="UTF-8")
        with open(Path(tmp) / FIELDS_SIDECAR, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["short", "name", "label_zh", "label_en"])
            for full, short in names.items():
                writer.writerow([short, full, *(labels or {}).get(full, ("", ""))])
        tmp_zip = Path(tmp) / "out.zip"
        with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
            for member in sorted(Path(tmp).iterdir()):
                if member.name != "out.zip":
                    zf.write(member, member.name)
        shutil.move(str(tmp_zip), path)
