"""Read an incoming file into attribute columns, geometries and the CRS it declares.

Vector formats go through GDAL (pyogrio): GeoPackage, Shapefile (``.shp``, a folder, or a
``.zip``), GeoJSON, KML. Tabular formats go through pandas: CSV (UTF-8, or GB18030 as Chinese
Excel saves it) and Excel, with geometry as a WKT column or lon/lat columns. Nothing here judges
the content; :mod:`gisapp.io.validate` does.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import mmap
import re
import warnings
import zipfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from gisapp.errors import InputError
from gisapp.io.fields import CRS_COLUMN, LAT_NAMES, LON_NAMES, WKT_NAMES, normalise_header

VECTOR_SUFFIXES = {".gpkg", ".shp", ".zip", ".geojson", ".json", ".kml", ".fgb"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}
#: What can be read from one file alone (an upload): a Shapefile needs its sidecars, so it comes zipped.
SINGLE_FILE_SUFFIXES = (VECTOR_SUFFIXES - {".shp"}) | TABLE_SUFFIXES
#: Sidecar written next to Shapefiles by the exporter: short DBF names -> full field names.
FIELDS_SIDECAR = "fields.csv"


@dataclass
class Source:
    """What was read from one file."""

    path: Path
    display: str                       # the file name used in messages
    frame: pd.DataFrame                # attribute columns, as read
    geometry: np.ndarray | None        # shapely objects (None entries where a row has none)
    crs: CRS | None                    # declared by the file; None when it declares nothing
    crs_text: str | None               # the declaration as written (for messages)
    ids: np.ndarray                    # feature ids (vector) or spreadsheet row numbers (tabular)
    id_kind: str                       # "feature" or "row"
    geometry_from: str | None = None   # "native", "wkt:<column>", "lonlat:<lon>,<lat>"
    geometry_errors: dict[int, str] = field(default_factory=dict)  # position -> why unreadable
    notes: list[str] = field(default_factory=list)
    #: every attribute column of the file (``frame`` may hold fewer when ``columns`` limited the read)
    all_columns: list[str] | None = None
    #: the geometries as the file gave them (WKB, Arrow large_binary, null where none), aligned with
    #: ``geometry``; None for files read from text (CSV, Excel). A bulk import COPYs these very
    #: bytes for the rows validation leaves unchanged instead of encoding the geometry again.
    wkb: pa.ChunkedArray | pa.Array | None = None
    #: problems of the whole file found while reading it (validation reports them as errors)
    errors: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)

    def slice(self, start: int, stop: int) -> Source:
        """Features ``start`` to ``stop`` (positions) as a Source of their own, positions from 0
        (``ids`` keep naming the file's features); for validating a large file in chunks."""
        frame = self.frame.iloc[start:stop].reset_index(drop=True)
        geometry = None if self.geometry is None else self.geometry[start:stop]
        wkb = None if self.wkb is None else self.wkb.slice(start, stop - start)  # no copy
        errors = {p - start: why for p, why in self.geometry_errors.items() if start <= p < stop}
        return replace(self, frame=frame, geometry=geometry, ids=self.ids[start:stop], geometry_errors=errors,
                       wkb=wkb)


class SourcePreview:
    """A vector file's attribute columns (named as :func:`read_source` names them) and feature
    count, known before its features are read: a large import reads the database's reference
    meanwhile. :meth:`read` reads the file; :meth:`source` waits for it (from another thread)."""

    def __init__(self, columns: list[str], n: int, read: Callable[[], Source]):
        self.columns, self.n, self._read = columns, n, read
        self._done: Future = Future()

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(columns=self.columns)

    def __len__(self) -> int:
        return self.n

    def read(self) -> Source:
        try:
            source = self._read()
        except BaseException as exc:
            self._done.set_exception(exc)
            raise
        self._done.set_result(source)
        return source

    def source(self) -> Source:
        return self._done.result()


def preview_source(path: str | Path, layer: str | None = None, columns: list[str] | None = None,
                   display: str | None = None, encoding: str | None = None) -> SourcePreview | None:
    """A :class:`SourcePreview` of a vector file (None for tables, whose rows must be read to be
    counted); the same errors as :func:`read_source` for a file that cannot be opened."""
    path = Path(path)
    display = display or path.name
    if not path.exists():
        raise InputError(f"{display}: file not found")
    vector = _vector_target(path, layer, display, encoding)
    if vector is None:
        return None
    target, chosen_layer, sidecar, extra = vector
    chosen, info, renames, read_cols = _open_vector(target, chosen_layer, columns, display, sidecar, extra)
    names = [renames.get(f, f) for f in (info["fields"] if read_cols is None else read_cols)]
    return SourcePreview(names, int(info["features"]),
                         lambda: _read_vector(target, chosen_layer, columns, display, sidecar, extra))


@dataclass
class _Declared:
    """What a vector file says about itself beyond what GDAL reports: the encoding to read its
    text in (None: GDAL's own choice), a CRS it declares that GDAL passed over, notes for the report."""

    encoding: str | None = None
    crs_text: str | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _vector_target(path: Path, layer: str | None, display: str, encoding: str | None = None
                   ) -> tuple[str, str | None, str | None, _Declared] | None:
    """``(what GDAL opens, layer, fields sidecar, what the file declares)`` of a vector file, None
    for other files."""
    suffix = path.suffix.lower()
    if path.is_dir():
        target, sidecar = _shapefile_in_folder(path, layer, display)
        return target, None, sidecar, _shapefile_declares(_file_part(Path(target)), display, encoding)
    if suffix == ".zip":
        target, sidecar, declared = _shapefile_in_zip(path, layer, display, encoding)
        return target, None, sidecar, declared
    if suffix in VECTOR_SUFFIXES:
        sidecar = None
        declared = _Declared(encoding, notes=_given_encoding_note(encoding, display))
        if suffix == ".shp":
            side = path.with_name(FIELDS_SIDECAR)
            sidecar = side.read_text(encoding="utf-8") if side.exists() else None
            declared = _shapefile_declares(_file_part(path), display, encoding)
        elif suffix in (".geojson", ".json"):
            declared.crs_text = _geojson_declared_crs(path)
            if _holds(path, b"\\u0000"):
                # GDAL ends a text at NUL: "ok\u0000=cmd()" would arrive as "ok", unseen
                declared.errors.append("holds NUL characters (\\u0000) in its texts, which are cut short there when "
                                       "read: remove them from the file")
        return str(path), layer, sidecar, declared
    return None


def _given_encoding_note(encoding: str | None, display: str) -> list[str]:
    if encoding is None:
        return []
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"{display}: unknown text encoding {encoding[:40]!r} (e.g. --encoding gb18030, "
                         "--encoding utf-8)") from None
    return [f"text read as {encoding} (as --encoding says)"]


def _file_part(shp: Path) -> Callable[[str], bytes | None]:
    """Reads the part of the Shapefile ``shp`` with another suffix (``.dbf``, ``.cpg``), None if absent."""
    def read(suffix: str) -> bytes | None:
        for candidate in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())):
            if candidate.exists():
                return candidate.read_bytes()
        return None
    return read


def _shapefile_declares(part: Callable[[str], bytes | None], display: str, given: str | None) -> _Declared:
    """The encoding of a Shapefile's table, when it names none, and a ``.prj`` GDAL cannot read.

    A DBF names its encoding by a ``.cpg`` file or by its code-page byte (offset 29); GDAL reads
    either. With neither, GDAL assumes ISO-8859-1 and Chinese text breaks (Arrow: "Invalid UTF8").
    Chinese offices' tools write GBK/GB18030 or UTF-8: the text is tried as UTF-8 strictly, then
    as GB18030, and the choice is said in the report (``--encoding`` overrides).
    """
    declared = _Declared()
    prj = part(".prj")
    if prj is not None:
        text = prj.decode("latin-1").strip()
        try:
            CRS.from_user_input(text)
        except CRSError:
            declared.crs_text = (text[:80] + ("…" if len(text) > 80 else "")) or "(an empty .prj file)"
    if given is not None:
        declared.encoding, declared.notes = given, _given_encoding_note(given, display)
        return declared
    dbf = part(".dbf")
    if dbf is None or len(dbf) < 32 or part(".cpg") is not None or dbf[29] != 0:
        return declared
    header = int.from_bytes(dbf[8:10], "little")
    names = b"".join(dbf[i:i + 11].split(b"\0")[0] for i in range(32, max(32, header - 1), 32))
    text = names + b"\n" + dbf[header:]
    if text.isascii():
        return declared
    encoding = _guess_encoding(text)
    if encoding is None:
        raise InputError(f"{display}: the Shapefile's text is neither UTF-8 nor GB18030 and the file names no "
                         "encoding (no .cpg file, no code page); give it with --encoding (e.g. --encoding big5)")
    declared.encoding = encoding
    declared.notes.append(f"text read as {encoding}: the Shapefile names no encoding (no .cpg file, no code page) "
                          f"and its text is valid {encoding} (give --encoding to read it otherwise)")
    return declared


def _guess_encoding(data: bytes) -> str | None:
    """UTF-8 when ``data`` decodes as UTF-8 (allowing a few characters a fixed-width DBF field cut
    in half), else GB18030 when it decodes as that, else None."""
    try:
        data.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    if sum(1 for ch in text if ord(ch) > 127) > 20 * broken:
        return "UTF-8"
    try:
        data.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        return None


def _holds(path: Path, needle: bytes) -> bool:
    """Whether the file's bytes contain ``needle`` (memory-mapped: a large file is not copied)."""
    with open(path, "rb") as fh:
        if fh.seek(0, 2) == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(needle) >= 0


def _geojson_declared_crs(path: Path) -> str | None:
    """The name in a GeoJSON file's ``crs`` member (GeoJSON 2008) when PROJ does not know it: GDAL
    then reads the file as WGS84 without a word, so ``"EPSG:99999"`` would pass for lon/lat."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - (1 << 16)))
        tail = fh.read() if size > (1 << 16) else b""
    for chunk in (head, tail):
        match = re.search(rb'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]{1,200})"', chunk)
        if match is None:
            match = re.search(rb'"crs"\s*:\s*\{\s*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]{1,200})"', chunk)
        if match is not None:
            name = match.group(1).decode("utf-8", errors="replace")
            try:
                CRS.from_user_input(name)
            except CRSError:
                return name
            return None
    return None


def read_source(path: str | Path, layer: str | None = None, columns: list[str] | None = None,
                display: str | None = None, encoding: str | None = None) -> Source:
    """Read ``path``; ``layer`` picks a layer, sheet or member when the file holds several.

    ``columns``, when given, limits the attribute columns read from vector files (speed on large
    files); unknown names are ignored. ``encoding`` names the text encoding of a Shapefile's table
    or a CSV file; without it a Shapefile that names none (no ``.cpg``, no code page) is read as
    UTF-8 or else GB18030, whichever its bytes are, and a CSV as UTF-8 or else GB18030.
    """
    path = Path(path)
    display = display or path.name
    if not path.exists():
        raise InputError(f"{display}: file not found")
    suffix = path.suffix.lower()
    vector = _vector_target(path, layer, display, encoding)
    if vector is not None:
        target, chosen_layer, sidecar, declared = vector
        return _read_vector(target, chosen_layer, columns, display, sidecar, declared)
    if suffix in (".csv", ".txt"):
        return _read_csv(path, display, encoding)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return _read_excel(path, layer, display)
    raise InputError(f"{display}: unsupported file type {suffix or '(none)'}; use GeoPackage (.gpkg), Shapefile "
                     "(.shp, folder or .zip), GeoJSON, KML, CSV or Excel (.xlsx)")


# -- vector ---------------------------------------------------------------------------------------

def _pick(names: list[str], layer: str | None, what: str, display: str) -> str:
    if layer is not None:
        for n in names:
            if n == layer or Path(n).stem == layer:
                return n
        raise InputError(f"{display}: has no {what} {layer!r}; it has: {', '.join(names)}")
    if len(names) == 1:
        return names[0]
    if not names:
        raise InputError(f"{display}: holds no {what}")
    raise InputError(f"{display}: holds several {what}s ({', '.join(names)}); choose one with --layer")


def _shapefile_in_zip(path: Path, layer: str | None, display: str,
                      encoding: str | None = None) -> tuple[str, str | None, _Declared]:
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
            shps = [m for m in members if m.lower().endswith(".shp") and not m.startswith("__MACOSX")]
            others = [m for m in members if Path(m).suffix.lower() in {".gpkg", ".geojson", ".json", ".kml"}]
            choice = _pick(shps or others, layer, "Shapefile" if shps else "layer file", display)
            side = str(Path(choice).with_name(FIELDS_SIDECAR)) if "/" in choice else FIELDS_SIDECAR
            sidecar = zf.read(side).decode("utf-8", errors="replace") if side in members else None

            def part(suffix: str) -> bytes | None:
                stem = choice[:-4]
                for name in (stem + suffix, stem + suffix.upper()):
                    if name in members:
                        return zf.read(name)
                return None
            if choice.lower().endswith(".shp"):
                declared = _shapefile_declares(part, display, encoding)
            else:
                declared = _Declared(encoding, notes=_given_encoding_note(encoding, display))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise InputError(f"{display}: is not a readable zip file") from None
    if choice.lower().endswith(".shp"):
        stem = choice[:-4]
        missing = [ext for ext in (".shx", ".dbf") if stem + ext not in members and stem + ext.upper() not in members]
        if missing:
            raise InputError(f"{display}: the Shapefile {choice} lacks its {' and '.join(missing)} part(s)")
    return f"/vsizip/{path.resolve()}/{choice}", sidecar, declared


def _shapefile_in_folder(path: Path, layer: str | None, display: str) -> tuple[str, str | None]:
    shps = sorted(p.name for p in path.glob("*.shp")) + sorted(p.name for p in path.glob("*.SHP"))
    choice = _pick(shps, layer, "Shapefile", display)
    side = path / FIELDS_SIDECAR
    return str(path / choice), side.read_text(encoding="utf-8") if side.exists() else None


def _sidecar_names(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    rows = list(csv.reader(io.StringIO(text)))[1:]
    return {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2 and r[0].strip()}


def _open_vector(target: str, layer: str | None, columns: list[str] | None, display: str,
                 sidecar: str | None, declared: _Declared | None = None
                 ) -> tuple[str | None, dict, dict[str, str], list[str] | None]:
    """``(layer, pyogrio's info, sidecar renames, fields to read)``."""
    encoding = declared.encoding if declared is not None else None
    try:
        layers = [name for name, _ in pyogrio.list_layers(target)]
        chosen = _pick(layers, layer, "layer", display) if layers else None
        info = pyogrio.read_info(target, layer=chosen, encoding=encoding)
    except InputError:
        raise
    except UnicodeError:
        raise InputError(_encoding_problem(display, encoding)) from None
    except Exception as exc:  # noqa: BLE001 - GDAL reports damage in many ways; say which file, no traceback
        raise InputError(f"{display}: cannot be read as a GIS file ({_gdal_message(exc, target, display)})") from None
    renames = _sidecar_names(sidecar)
    read_cols = None
    if columns is not None:
        wanted = {normalise_header(c) for c in columns}
        read_cols = [f for f in info["fields"] if normalise_header(renames.get(f, f)) in wanted]
    return chosen, info, renames, read_cols


def _encoding_problem(display: str, encoding: str | None) -> str:
    if encoding is None:
        return (f"{display}: its text is not in the encoding it declares (or UTF-8); give the right one with "
                "--encoding (e.g. --encoding gb18030)")
    return f"{display}: its text cannot be read as {encoding}; give the right encoding with --encoding"


def _gdal_message(exc: BaseException, target: str, display: str) -> str:
    """The first line of GDAL's message, with the file's path (a server's temporary folder) replaced
    by the name the person knows."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for path in {target, target.removeprefix("/vsizip/"), str(Path(target.removeprefix("/vsizip/")).parent)}:
        if path and path not in ("", "."):
            text = text.replace(path, display)
    return text[:160]


def _read_vector(target: str, layer: str | None, columns: list[str] | None, display: str,
                 sidecar: str | None, declared: _Declared | None = None) -> Source:
    declared = declared or _Declared()
    chosen, info, renames, read_cols = _open_vector(target, layer, columns, display, sidecar, declared)
    try:
        # as pyogrio.read_dataframe(use_arrow=True) reads, keeping the WKB GDAL gave (see _arrow_frame)
        meta, table = pyogrio.read_arrow(target, layer=chosen, columns=read_cols, return_fids=True,
                                         datetime_as_string=True, encoding=declared.encoding)
        for column in table.columns:
            # GDAL hands text it could not decode through as bytes; Arrow checks UTF-8 only when asked
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                column.validate(full=True)
        frame, ids, wkb = _arrow_frame(meta, table)
        del table
        geometry = None if wkb is None else shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="ignore")
    except (UnicodeError, pa.ArrowInvalid) as exc:
        if isinstance(exc, UnicodeError) or "utf8" in str(exc).lower().replace("-", ""):
            raise InputError(_encoding_problem(display, declared.encoding)) from None
        raise InputError(f"{display}: cannot be read ({_gdal_message(exc, target, display)})") from None
    except pyogrio.errors.DataSourceError as exc:
        if "not encoded in UTF-8" in str(exc):
            raise InputError(_encoding_problem(display, declared.encoding)) from None
        raise InputError(f"{display}: cannot be read ({_gdal_message(exc, target, display)})") from None
    except Exception as exc:  # noqa: BLE001 - GDAL reports damage in many ways; say which file, no traceback
        raise InputError(f"{display}: cannot be read ({_gdal_message(exc, target, display)})") from None
    if renames:
        frame = frame.rename(columns=renames)
    crs_text = info.get("crs")
    crs = None
    if declared.crs_text is not None and (not crs_text or "4326" in str(crs_text)):
        crs_text = declared.crs_text  # declared, and unknown to PROJ: validation refuses it, quoting it
    elif crs_text:
        try:
            crs = CRS.from_user_input(crs_text)
        except CRSError:
            crs = None  # validation reports it as unknown, quoting crs_text
    all_columns = [renames.get(f, f) for f in info["fields"]]
    return Source(Path(target), display, frame, geometry, crs, crs_text, ids, "feature", "native",
                  all_columns=all_columns, wkb=wkb, notes=list(declared.notes), errors=list(declared.errors))


_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3
_PYARROW_19 = int(pa.__version__.split(".")[0]) >= 19


def _arrow_frame(meta: dict, table: pa.Table) -> tuple[pd.DataFrame, np.ndarray, pa.ChunkedArray | None]:
    """``(attribute columns, feature ids, WKB)`` of what ``pyogrio.read_arrow`` read, the attributes
    converted as ``pyogrio.read_dataframe(use_arrow=True)`` converts them (pyogrio 0.12-0.13:
    datetime text parsed, JSON fields decoded); the WKB as Arrow large_binary (None when the layer
    has no geometry), not yet decoded, so that its bytes can be reused."""
    fid, geom = meta["fid_column"], meta["geometry_name"] or "wkb_geometry"
    ids = table.column(fid).to_numpy() if fid in table.column_names else np.arange(table.num_rows)
    wkb = None
    if geom in table.column_names:
        wkb = table.column(geom)
        if isinstance(wkb.type, pa.BaseExtensionType):  # geoarrow.wkb, when a library registered it
            wkb = pa.chunked_array([c.storage for c in wkb.chunks], wkb.type.storage_type)
        wkb = wkb.cast(pa.large_binary())  # 64-bit offsets: chunks of a large file can be joined
    attrs = table.drop_columns([c for c in (fid, geom) if c in table.column_names])
    kwargs: dict = {"self_destruct": True}  # frees each Arrow column once converted
    if _PANDAS_3 and not _PYARROW_19:  # what pyogrio does for these versions
        kwargs["types_mapper"] = {pa.string(): pd.StringDtype(na_value=np.nan),
                                  pa.large_string(): pd.StringDtype(na_value=np.nan)}.get
    try:
        frame = attrs.to_pandas(**kwargs)
    except UnicodeDecodeError:
        raise pyogrio.errors.DataSourceError(
            "The file being read is not encoded in UTF-8; please use_arrow=False") from None
    del attrs
    for dtype, column in zip(meta["dtypes"], meta["fields"], strict=True):
        if dtype is not None and dtype.startswith("datetime") and dtype != "datetime64[D]":
            frame[column] = _datetimes(frame[column])
    for subtype, column in zip(meta.get("ogr_subtypes") or [], meta["fields"], strict=True):
        if subtype == "OFSTJSON" and pd.api.types.infer_dtype(frame[column]) == "string":
            try:
                frame[column] = frame[column].map(json.loads, na_action="ignore")
            except ValueError:
                pass  # left as text, as pyogrio leaves it
    return frame, ids, wkb


def _datetimes(text: pd.Series) -> pd.Series:
    """GDAL's ISO 8601 datetime text as pyogrio.read_dataframe parses it by default: datetimes to the
    millisecond, mixed UTC offsets converted to UTC, the text kept when it does not parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas 2 on mixed offsets
        try:
            parsed = pd.to_datetime(text, format="ISO8601")
        except (ValueError, TypeError, OverflowError) as exc:
            if "Mixed timezones detected" not in str(exc):
                return text
            parsed = text.astype(object)  # converted to UTC below
        if parsed.dtype == object or isinstance(parsed.dtype, pd.StringDtype):
            try:
                parsed = pd.to_datetime(text, utc=True, format="ISO8601")
            except (ValueError, TypeError, OverflowError):
                return text
    return parsed.dt.as_unit("ms") if parsed.dtype.kind == "M" else parsed


# -- tabular --------------------------------------------------------------------------------------

def _read_csv(path: Path, display: str, encoding: str | None = None) -> Source:
    notes = _given_encoding_note(encoding, display)
    try:
        if encoding is not None:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        else:
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            except UnicodeDecodeError:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
                notes.append("text read as GB18030: it is not UTF-8 (give --encoding to read it otherwise)")
    except UnicodeDecodeError:
        raise InputError(_encoding_problem(display, encoding or "GB18030")) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"{display}: is not a readable CSV file ({str(exc).splitlines()[0][:160]})") from None
    return _tabular_source(path, display, frame, notes)


def _read_excel(path: Path, sheet: str | None, display: str) -> Source:
    try:
        sheets = pd.ExcelFile(path).sheet_names
        chosen = _pick([s for s in sheets if not s.startswith("说明")] or sheets, sheet, "sheet", display)
        frame = pd.read_excel(path, sheet_name=chosen, dtype=object)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged workbook
        raise InputError(f"{display}: is not a readable Excel workbook ({str(exc).splitlines()[0][:160]})") from None
    return _tabular_source(path, display, frame, [])


def _tabular_source(path: Path, display: str, frame: pd.DataFrame, notes: list[str]) -> Source:
    frame.columns = [str(c).strip() for c in frame.columns]
    norm = {normalise_header(c): c for c in frame.columns}
    ids = np.arange(len(frame)) + 2  # spreadsheet row numbers: the header is row 1
    geometry, geometry_from, errors = None, None, {}
    crs, crs_text = None, None
    wkt_col = next((norm[n] for n in WKT_NAMES if n in norm), None)
    lon_col = next((norm[n] for n in LON_NAMES if n in norm), None)
    lat_col = next((norm[n] for n in LAT_NAMES if n in norm), None)
    if wkt_col is not None:
        text = frame[wkt_col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        text = text.str.strip()
        srid = text.str.extract(r"^SRID=(\d+);", expand=False)
        declared = srid.dropna().unique()
        if len(declared) == 1 and srid.notna().sum() == (text != "").sum():
            crs_text = f"EPSG:{declared[0]}"
        text = text.str.replace(r"^SRID=\d+;", "", regex=True)
        values = np.where(text.to_numpy() == "", None, text.to_numpy())
        geometry = shapely.from_wkt(values, on_invalid="ignore")
        bad = np.flatnonzero(pd.isna(geometry) & pd.notna(values))
        errors = {int(i): "geometry text is not valid WKT" for i in bad}
        geometry_from = f"wkt:{wkt_col}"
        frame = frame.drop(columns=[wkt_col])
    elif lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(frame[lon_col], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame[lat_col], errors="coerce").to_numpy(dtype=float)
        raw_lon = frame[lon_col].astype(str).str.strip()
        given = (raw_lon != "") & (raw_lon != "nan") & (raw_lon != "None")
        geometry = np.where(np.isfinite(lon) & np.isfinite(lat), shapely.points(lon, lat), None)
        bad = np.flatnonzero(given.to_numpy() & ~(np.isfinite(lon) & np.isfinite(lat)))
        errors = {int(i): f"{lon_col}/{lat_col} are not numbers" for i in bad}
        geometry_from = f"lonlat:{lon_col},{lat_col}"
    if CRS_COLUMN in norm:
        col = norm[CRS_COLUMN]
        values = {str(v).strip() for v in frame[col] if str(v).strip() not in ("", "nan", "None")}
        if len(values) > 1:
            raise InputError(f"{display}: column {col!r} names several CRSs ({', '.join(sorted(values)[:5])}); "
                             "one file must use one CRS")
        if values:
            crs_text = values.pop()
    if crs_text is not None:
        try:
            crs = CRS.from_user_input(crs_text)
        except CRSError:
            crs = None  # may still be a name gisapp knows (gcj02); resolved in validation
    frame = frame.reset_index(drop=True)
    return Source(path, display, frame, geometry, crs, crs_text, ids, "row", geometry_from, errors, notes)

