"""Check a file against what the database knows, before anything is written.

``validate(kind, source, reference, crs=..., repair=...)`` returns the cleaned rows (geometry in
EPSG:4490, codes resolved to ids) and a :class:`~gisapp.io.report.Report` naming, for every
problem, the file, the feature or row, the field and what is wrong. Classes of problem: missing
or unknown CRS, unreadable / wrong-type / invalid geometry (repaired only when asked), duplicates
(in the file and, unless updating, in the database), codes outside the classification (legacy
GB 50137 codes are mapped), parcels outside every zone, values out of range, hostile text.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import Geod

from gisapp.errors import InputError
from gisapp.geodesy import ellipsoid_area_m2
from gisapp.io import crs as crsmod
from gisapp.io.fields import KINDS, KindSpec, ambiguous_cut, elsewhere, match_columns, normalise_header
from gisapp.io.readers import Source
from gisapp.io.report import ERROR, INFO, WARNING, Report
from gisapp.io.values import parse_column

CHINA_BOX = (73.0, 3.0, 136.0, 54.0)
ZONE_KINDS = ("comprehensive_bonded_zone", "special_comprehensive_bonded_zone", "free_trade_zone", "benchmark")
REGIONS = ("east", "central_west")
GRADING_CATEGORIES = ("regular", "small", "startup", "under_construction")
DEFAULT_STATUS = "approved_unsupplied"
#: files of this many features or more check geometry on a second thread while attributes are parsed
PARALLEL_ROWS = 10_000
_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid is GRS80 to 0.1 mm
#: Parcels smaller than this are refused as slivers. No land-registry parcel is this small (the
#: smallest real plots, a substation or a pump house, are tens of m²): such a feature is a
#: digitising artefact (the sliver left between two polygons drawn separately) or a unit mistake.
#: An error, not a warning: stored, it would count as a parcel in every statistic and divide
#: output by almost nothing in the per-mu evaluation, and a warning is easily scrolled past.
MIN_PARCEL_AREA_M2 = 10.0
#: A stated area (an ``area_m2`` column) further than this, relative, from the geometry's area on
#: the ellipsoid is flagged: a few per cent covers areas measured on a Gauss-Krüger plane (the
#: projection's scale error is < 0.1% in Shanghai) and rounding to whole m² or to 0.01 亩; beyond
#: that the geometry or the figure is wrong (a shifted vertex, a different parcel, mu for m²). A
#: warning: the geometry is what is stored and measured; the figure is not imported.
AREA_TOLERANCE = 0.05


@dataclass
class Reference:
    """What the database knows that a file is checked against (see ``importer.load_reference``)."""

    land_use_codes: set[str] = field(default_factory=set)
    legacy_codes: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)        # code, name_zh, name_en (lower) -> code
    zones: pd.DataFrame | None = None                             # id, code, geom (boundary in force)
    districts: pd.DataFrame | None = None                         # id, code, name_zh, name_en
    enterprises_by_credit: dict[str, int] = field(default_factory=dict)
    enterprises_by_name: dict[str, int] = field(default_factory=dict)   # -1 when a name is ambiguous
    existing_keys: set = field(default_factory=set)               # keys of this kind already stored
    parcels: pd.DataFrame | None = None                           # metrics: id, code, enterprise_id, geom
    #: parcels: centroids (code, x, y) of a sample of the parcels the file names that are stored already
    stored_centroids: pd.DataFrame | None = None


@dataclass
class Prepared:
    """Rows ready to write (only when the report has no error).

    Parcels read from a GIS file also have a column ``wkb`` (Arrow large_binary): the file's own
    bytes of each geometry that validation left as it was read (see :func:`_geometry`), null
    where the geometry was converted, promoted, made 2D or repaired.
    """

    kind: str
    rows: pd.DataFrame
    source_crs: str
    report: Report
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckOptions:
    """What the person importing asks for (the CLI's options, the web form's boxes)."""

    #: the CRS of a file that declares none (or a wrong one); None: the file's own
    crs: str | None = None
    #: repair invalid geometries instead of refusing them
    repair: bool = False
    #: rows whose code exists update that row instead of being refused as duplicates
    update_existing: bool = False
    #: parcels smaller than this are refused as slivers
    min_area_m2: float = MIN_PARCEL_AREA_M2
    #: a stated area further than this share from the geometry's is flagged
    area_tolerance: float = AREA_TOLERANCE


@dataclass
class LoadHooks:
    """How a bulk import overlaps its load with the checks: speed only, the report is the same."""

    #: ``on_values(rows, source_crs, report)``: every value to write is final (see validate)
    on_values: Callable[[pd.DataFrame, str, Report], None] | None = None
    #: ``on_geometry(geoms, wkb)``: the geometries are final (see validate)
    on_geometry: Callable[[np.ndarray, pa.ChunkedArray | None], None] | None = None
    #: check geometry on a second thread (None: for files of PARALLEL_ROWS or more)
    parallel: bool | None = None
    #: False: leave out the checks comparing rows with each other (validate_in_chunks runs them)
    file_checks: bool = True
    #: counts of the legacy codes mapped, instead of a report line (validate_in_chunks)
    tallies: dict[str, int] | None = None
    #: the checks that only add errors are appended here instead of run
    defer_checks: list[Callable[[Report], None]] | None = None


def validate(kind: str, source: Source, reference, options: CheckOptions = CheckOptions(),
             hooks: LoadHooks | None = None) -> Prepared:
    """Validate ``source`` as ``kind`` (parcels, zones, metrics) with the person's ``options``;
    ``hooks`` let a bulk import start its load while the last checks run.

    ``reference`` is a :class:`Reference` or a future of one: parsing values and checking
    geometry need no database, so a large import reads the reference meanwhile.

    ``hooks.on_values(rows, source_crs, report)``, when given, is called as soon as every value to be written is
    final (parsed, converted, looked up, zones assigned), before the checks that can only add
    errors (duplicates within the file, geometry validity unless repairing, value pairs): a bulk
    import starts its COPY there and rolls it back if those checks then find an error.
    ``hooks.on_geometry(geoms, wkb)`` is called as soon as the geometries are final (EPSG:4490, MultiPolygon;
    None where unusable), possibly on another thread, with the file's WKB of those left as read
    (the ``wkb`` column, see :class:`Prepared`; None when there is none): the bulk import encodes
    the others meanwhile.
    ``hooks.parallel`` checks geometry on a second thread (default: files of ``PARALLEL_ROWS`` or more).
    ``hooks.file_checks=False`` leaves out the checks that compare rows with each other (duplicate codes
    and geometries of parcels) and ``tallies`` takes the counts of the legacy codes mapped instead
    of a report line: :func:`validate_in_chunks` does both once for the whole file. With
    ``hooks.defer_checks`` the checks that only add errors are appended to that list (each takes the
    report to add to) instead of run here.
    """
    hooks = hooks or LoadHooks()
    crs, repair, update_existing = options.crs, options.repair, options.update_existing
    min_area_m2, area_tolerance = options.min_area_m2, options.area_tolerance
    on_values, on_geometry, parallel = hooks.on_values, hooks.on_geometry, hooks.parallel
    file_checks, tallies, defer_checks = hooks.file_checks, hooks.tallies, hooks.defer_checks
    try:
        spec = KINDS[kind]
    except KeyError:
        raise InputError(f"unknown import kind {kind!r}; choose one of {', '.join(KINDS)}") from None
    mapping, ignored = match_columns(spec, list(source.frame.columns))
    if source.all_columns is not None:
        ignored = [c for c in source.all_columns if c not in mapping.values()]
    report = Report(source.display, kind, source.id_kind, source.ids)
    code_field = spec.key[0] if spec.key else None
    if code_field in mapping:
        report.codes = source.frame[mapping[code_field]].astype("string").to_numpy(dtype=object, na_value=None)
    for note in source.notes:
        report.add(INFO, "file", note)
    for problem in source.errors:
        report.add(ERROR, "file", problem)
    stated_area = _ignored_columns(spec, source, ignored, report)
    if len(source) == 0:
        report.add(ERROR, "file", "holds no features or rows")
        return Prepared(kind, pd.DataFrame(), "", report, ignored)

    # checks that only add errors and change no value: run after on_values (see above)
    later: list[Callable[[Report], None]] = []
    geometry_task = None
    if parallel is None:
        parallel = len(source) >= PARALLEL_ROWS
    if spec.geometry == "polygon" and parallel:
        # GEOS releases the GIL: a large file's geometry (and where each polygon lies) is worked on
        # meanwhile; its problems join the report after the attributes' ones, as when sequential
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gisapp-validate")
        geometry_report = report.fresh()
        geometry_task = pool.submit(_geometry_located, spec, source, geometry_report, crs, repair, later, reference,
                                    on_geometry, kind == "parcels", min_area_m2 if kind == "parcels" else 0.0)
        pool.shutdown(wait=False)
    rows = pd.DataFrame(index=pd.RangeIndex(len(source)))
    for f in spec.fields:
        if f.name not in mapping:
            if f.required:
                report.add(ERROR, f.name, f"column missing (accepted headers: {', '.join(f.all_names)})")
            continue
        values, bad = parse_column(source.frame[mapping[f.name]], f)
        # Arrow-backed text stays Arrow-backed (an object array of a million strings costs seconds)
        rows[f.name] = values.array if isinstance(values.dtype, pd.StringDtype) else values.to_numpy()
        if bad:
            report.add(ERROR, f.name, list(bad.values()), list(bad.keys()))
        if f.required:
            missing = np.flatnonzero(pd.isna(rows[f.name]).to_numpy())
            missing = np.setdiff1d(missing, list(bad.keys()))
            report.add(ERROR, f.name, "is empty; a value is required", missing)

    source_crs, located, wkb, area = "", None, None, None
    if geometry_task is not None:
        source_crs, geoms, wkb, area, located = geometry_task.result()
        report.extend(geometry_report)
        rows["geom"] = geoms
    elif spec.geometry != "none":
        source_crs, geoms, wkb, area = _geometry(spec, source, report, crs, repair, later, kind == "parcels",
                                                 min_area_m2 if kind == "parcels" else 0.0)
        rows["geom"] = geoms
        if on_geometry is not None:
            on_geometry(geoms, wkb)
    if area is not None and spec.geometry == "polygon":
        if kind == "parcels":  # the bulk load stores it (row triggers are off): measured once
            rows["area_m2"] = area
        if stated_area is not None:
            _compare_areas(stated_area, area, report, area_tolerance)
    if wkb is not None:  # Arrow-backed: the bytes are not copied into a million Python objects
        rows["wkb"] = pd.arrays.ArrowExtensionArray(wkb)
    if kind != "parcels":  # only parcels are written early (bulk imports); other kinds check in order
        for run in later:
            run(report)
        later.clear()
    check = {"parcels": _check_parcels, "zones": _check_zones, "metrics": _check_metrics,
             "districts": _check_districts}[kind]
    if not isinstance(reference, Reference):  # a Future: the reference was read while the file was parsed
        reference = reference.result()
    if kind == "parcels":
        _check_parcels(rows, reference, report, update_existing, later, located, file_checks, tallies)
    else:
        check(rows, reference, report, update_existing, later)
    _looks_like_gcj02(kind, rows, reference, report, source_crs, crs, np.array(rows.attrs.pop("outside", ()),
                                                                             dtype=np.int64))
    if on_values is not None:
        on_values(rows, source_crs, report)
    if defer_checks is not None:
        defer_checks.extend(later)
    else:
        for run in later:
            run(report)
    return Prepared(kind, rows, source_crs, report, ignored)


def validate_in_chunks(kind: str, source: Source, reference, chunk_rows: int,
                       on_chunk: Callable[[pd.DataFrame, str], None] | None = None,
                       options: CheckOptions = CheckOptions()) -> Prepared:
    """:func:`validate` ``source`` ``chunk_rows`` features at a time, with the same report.

    ``on_chunk(rows, source_crs)`` is called with each chunk's final values as soon as they are
    known and only while the file has no error so far (a bulk import COPYs the chunk meanwhile,
    and stops when a later chunk or the whole-file checks find one). Every row is checked on its
    own within its chunk; what compares rows with each other (duplicate codes and geometries,
    overlaps) runs once over the whole file at the end, and whole-file lines are kept once. Only
    parcels.

    The checks that can only add errors (geometry validity, value pairs) run for every chunk once
    all chunks are handed on: a bulk import then runs them while the server stores the last chunk
    and rebuilds the indexes, on the core that would otherwise wait, instead of between chunks,
    where the COPY waited for them. An error they find stops the import as before (the COPY is
    rolled back); the report is the same.
    """
    if kind != "parcels":
        raise ValueError(f"validate_in_chunks checks parcels only, not {kind}")
    if len(source) == 0:
        return validate(kind, source, reference, options)
    spec = KINDS[kind]
    mapping, _ = match_columns(spec, list(source.frame.columns))
    report = Report(source.display, kind, source.id_kind, source.ids)
    if spec.key and spec.key[0] in mapping:
        report.codes = source.frame[mapping[spec.key[0]]].astype("string").to_numpy(dtype=object, na_value=None)
    tallies: dict[str, int] = {}
    parts: list[pd.DataFrame] = []
    source_crs, ignored = "", []
    deferred: list[tuple[int, Report, list[Callable[[Report], None]]]] = []  # (offset, chunk's problems, checks)
    for start in range(0, len(source), chunk_rows):
        chunk = source.slice(start, min(start + chunk_rows, len(source)))
        hand_over = None
        if on_chunk is not None and report.ok:
            def hand_over(rows, chunk_crs, chunk_report):
                if chunk_report.ok:
                    on_chunk(rows, chunk_crs)
        checks: list[Callable[[Report], None]] = []
        part = validate(kind, chunk, reference, options,
                        LoadHooks(on_values=hand_over, file_checks=False, tallies=tallies, defer_checks=checks))
        report.absorb(part.report, start)
        deferred.append((start, part.report.fresh(), checks))
        parts.append(part.rows)
        source_crs, ignored = source_crs or part.source_crs, part.ignored_columns
    for start, found, checks in deferred:
        for run in checks:
            run(found)
        report.absorb(found, start)
    rows = pd.concat(parts, ignore_index=True)
    rows.attrs = dict(parts[0].attrs)
    _legacy_mapped(report, tallies)
    if "code" in rows:
        _duplicates(report, rows["code"], "code", "parcel code")
    if "geom" in rows:
        geoms = rows["geom"].to_numpy()
        have = ~pd.isna(geoms)
        if have.any():
            _duplicate_geometries(geoms, have, report)
            _overlapping_geometries(geoms, have, report)
    return Prepared(kind, rows, source_crs, report, ignored)


# -- columns not imported ---------------------------------------------------------------------------

def _ignored_columns(spec: KindSpec, source: Source, ignored: list[str], report: Report) -> pd.Series | None:
    """One line per column not imported, saying where its values belong; impossible values in a
    column of known meaning are flagged even so (an area of -50 m², green space of 10⁶ km²: the
    file is not what it seems, e.g. its columns are shifted). Returns the stated areas (the
    ``area_m2`` column or its aliases, parsed; NaN where empty or impossible) when the file has them.

    Warnings, not errors: the values are not written, so they cannot corrupt the database; but a
    person must see that data in the file (metrics in a parcel file, green space) goes nowhere.
    """
    stated = None
    known = [n for f in spec.fields for n in f.all_names]
    for column in ignored:
        name = str(column)
        where = elsewhere(spec, name)
        if where is not None:
            report.add(WARNING if where.data else INFO, name, f"not imported: {where.where}")
            if where.spec is not None and column in source.frame.columns:
                values, bad = parse_column(source.frame[column], where.spec)
                if bad:
                    report.add(WARNING, name, [f"{why} (not imported, but no such value is possible: are the file's "
                                               "columns what their headers say?)" for why in bad.values()],
                               list(bad.keys()))
                if where.spec.name == "area_m2" and stated is None:
                    stated = values.astype(float)
                    if bad:
                        stated.iloc[list(bad.keys())] = np.nan
            continue
        cut = ambiguous_cut(spec, name)
        if cut:
            report.add(WARNING, name, f"not imported: the Shapefile format cut this header to 10 characters and it "
                       f"could be any of {', '.join(cut)}; name the column in full (or export with a fields.csv)")
            continue
        close = difflib.get_close_matches(normalise_header(name), known, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        report.add(WARNING, name, f"not imported: not a field of {spec.name}{hint}; its values are left out")
    return stated


def _compare_areas(stated: pd.Series, measured: np.ndarray, report: Report, tolerance: float) -> None:
    """Flag a stated area further than ``tolerance`` (relative) from the geometry's area."""
    given = stated.to_numpy(dtype=float)
    check = np.isfinite(given) & (given > 0) & np.isfinite(measured) & (measured > 0)
    off = np.zeros(given.size, dtype=bool)
    off[check] = np.abs(given[check] - measured[check]) > tolerance * measured[check]
    report.add(WARNING, "area_m2", [f"the file states {g:,.1f} m² but the geometry measures {m:,.1f} m² on the "
                                    f"ellipsoid ({100 * (g - m) / m:+.0f}%; more than {100 * tolerance:g}% apart): "
                                    "is the geometry or the figure wrong?"
                                    for g, m in zip(given[off], measured[off])], np.flatnonzero(off))


# -- CRS and geometry --------------------------------------------------------------------------------

def resolve_source_crs(source: Source, given: str | None, report: Report) -> crsmod.CrsSpec | None:
    """The CRS to read the file's coordinates in, or None (with an error) when it cannot be known."""
    declared = None
    if source.crs_text is not None:
        try:
            declared = crsmod.resolve_crs(source.crs if source.crs is not None else source.crs_text)
        except InputError:
            if given is None:
                report.add(ERROR, "crs", f"the file declares the CRS {source.crs_text[:80]!r}, which is not known "
                           "(not an EPSG code or a definition PROJ understands): give the data's real CRS with "
                           "--crs (e.g. --crs EPSG:4490, --crs EPSG:4549, --crs gcj02)")
                return None
            report.add(INFO, "crs", f"the file declares the CRS {source.crs_text[:80]!r}, which is not known; "
                       "read as --crs says")
    if given is None:
        if declared is None:
            report.add(ERROR, "crs", "the file does not say which coordinate system it uses; give it with "
                       "--crs (e.g. --crs EPSG:4490, --crs EPSG:4549, --crs gcj02)")
        return declared
    try:
        wanted = crsmod.resolve_crs(given)
    except InputError as exc:
        report.add(ERROR, "crs", str(exc))
        return None
    if declared is None or declared.label == wanted.label:
        return wanted
    lonlat = {"EPSG:4326", "EPSG:4490"}
    if wanted.offset and declared.label in lonlat | {"GCJ-02", "BD-09"}:
        # GCJ-02/BD-09 data is routinely labelled WGS84 (KML and GeoJSON must say WGS84).
        report.add(INFO, "crs", f"the file declares {declared.label}; read as {wanted.label} as --crs says")
        return wanted
    if declared.label in lonlat and wanted.label in lonlat:
        report.add(INFO, "crs", f"the file declares {declared.label}; read as {wanted.label} (the same lon/lat "
                   "within centimetres)")
        return wanted
    report.add(ERROR, "crs", f"the file declares {declared.label} but --crs says {wanted.label}; fix the file's "
               "CRS or drop --crs")
    return None


def _geometry_located(spec: KindSpec, source: Source, report: Report, given_crs: str | None, repair: bool,
                      later: list[Callable[[Report], None]], reference,
                      on_geometry: Callable[[np.ndarray, pa.ChunkedArray | None], None] | None,
                      keep_wkb: bool = False, min_area_m2: float = 0.0
                      ) -> tuple[str, np.ndarray, pa.ChunkedArray | None, np.ndarray | None, tuple | None]:
    """:func:`_geometry`, then where each polygon lies among the zones (see :func:`_locate`)."""
    source_crs, geoms, wkb, area = _geometry(spec, source, report, given_crs, repair, later, keep_wkb, min_area_m2)
    if on_geometry is not None:
        on_geometry(geoms, wkb)
    points = shapely.point_on_surface(geoms[~pd.isna(geoms)])  # needs no reference: before waiting for it
    if not isinstance(reference, Reference):
        reference = reference.result()
    return source_crs, geoms, wkb, area, _locate(geoms, reference, points)


def _geometry(spec: KindSpec, source: Source, report: Report, given_crs: str | None,
              repair: bool, later: list[Callable[[Report], None]],
              keep_wkb: bool = False, min_area_m2: float = 0.0
              ) -> tuple[str, np.ndarray, pa.ChunkedArray | None, np.ndarray | None]:
    """``(source CRS label, final geometries, file's WKB of those left as read, areas)``.

    The final geometries are in EPSG:4490, 2D, MultiPolygon (None where unusable). With
    ``keep_wkb`` and a file that gave WKB (``source.wkb``), the third item holds, for each row
    whose final geometry is the very one the file gave, the file's bytes of it, and null for the
    others; a row is left as read when its coordinates stay as they are (EPSG:4490 or WGS84, see
    ``crsmod.keeps_coordinates``), it is a MultiPolygon (not promoted) without Z or M (not made 2D) and
    not repaired, and the file wrote it as little-endian 2D WKB (what the COPY sends). Else None.
    The areas (m² on the ellipsoid, NaN where there is no final geometry) are those of the final
    polygons (None for points); polygons smaller than ``min_area_m2`` are refused as slivers.
    """
    n = len(source)
    out = np.full(n, None, dtype=object)
    if source.geometry is None:
        if spec.geometry == "polygon":
            report.add(ERROR, "geometry", "the file has no geometry (for CSV/Excel give a WKT column named wkt)")
        return "", out, None, None
    geoms = np.asarray(source.geometry, dtype=object).copy()
    for pos, why in source.geometry_errors.items():
        report.add(ERROR, "geometry", why, [pos])
    unreadable = np.zeros(n, dtype=bool)
    unreadable[list(source.geometry_errors)] = True
    missing = pd.isna(geoms) | shapely.is_empty(np.where(pd.isna(geoms), shapely.Point(), geoms))
    geoms[missing] = None
    if spec.geometry == "polygon":
        report.add(ERROR, "geometry", "has no geometry", np.flatnonzero(missing & ~unreadable))
    present = ~missing
    if not present.any():
        return "", out, None, None
    spec_crs = resolve_source_crs(source, given_crs, report)
    if spec_crs is None:
        return "", out, None, None
    type_ids = shapely.get_type_id(np.where(present, geoms, shapely.Point()))
    if spec.geometry == "polygon":
        wrong = present & ~np.isin(type_ids, (3, 6))   # Polygon, MultiPolygon
        type_name = {0: "a point", 1: "a line", 2: "a linear ring", 4: "points", 5: "lines",
                     7: "a geometry collection"}
        report.add(ERROR, "geometry", [f"is {type_name.get(int(t), 'not a polygon')}; {spec.name} need polygons"
                                       for t in type_ids[wrong]], np.flatnonzero(wrong))
    else:  # points (metrics located by lon/lat)
        wrong = present & (type_ids != 0)
        report.add(ERROR, "geometry", "must be a point (lon/lat)", np.flatnonzero(wrong))
    work = present & ~wrong
    has_z = shapely.has_z(geoms[work])
    has_m = shapely.has_m(geoms[work])
    if has_z.any() or has_m.any():
        geoms[work] = shapely.force_2d(geoms[work])
        dropped = [f"Z (height) values of {int(has_z.sum())} feature(s)" if has_z.any() else "",
                   f"M (measure) values of {int(has_m.sum())} feature(s)" if has_m.any() else ""]
        report.add(WARNING, "geometry", f"dropped the {' and the '.join(d for d in dropped if d)}: "
                   f"{spec.name} are stored in 2D (lon/lat only)")
    raw = geoms[work]
    converted = crsmod.to_storage(raw, spec_crs)
    # NaN/infinite coordinates: GEOS ignores them in bounds and fails on them in make_valid; they
    # make the area NaN or infinite, so only the few features whose area is not finite are scanned
    if spec.geometry == "polygon":
        with np.errstate(invalid="ignore", over="ignore"):  # coordinates far off the earth measure as NaN
            area_all = ellipsoid_area_m2(converted)
        suspect = np.flatnonzero(~np.isfinite(area_all))
    else:
        area_all = None
        suspect = np.arange(converted.size)
    notnum = np.zeros(converted.size, dtype=bool)
    if suspect.size:
        coords, owner = shapely.get_coordinates(raw[suspect], return_index=True)
        notnum[suspect[np.unique(owner[~np.isfinite(coords).all(axis=1)])]] = True
        report.add(ERROR, "geometry", "a coordinate is not a number (NaN or infinite); fix the vertex in the file",
                   np.flatnonzero(work)[notnum])
    bounds = shapely.bounds(converted)
    inside = ((bounds[:, 0] >= CHINA_BOX[0]) & (bounds[:, 2] <= CHINA_BOX[2])
              & (bounds[:, 1] >= CHINA_BOX[1]) & (bounds[:, 3] <= CHINA_BOX[3]))
    outside = ~inside & ~notnum
    if outside.any():
        rb = shapely.bounds(raw[outside])
        hint = crsmod.guess_hint(np.nanmin(rb[:, 0]), np.nanmin(rb[:, 1]), np.nanmax(rb[:, 2]), np.nanmax(rb[:, 3]))
        idx = np.flatnonzero(work)[outside]
        report.add(ERROR, "geometry", [f"lies outside China once read as {spec_crs.label} (x {b[0]:.6g}, "
                                       f"y {b[1]:.6g}); is the CRS right? {hint}" for b in rb], idx)
    inside &= ~notnum
    positions = np.flatnonzero(work)[inside]
    conv = converted[inside]
    area = None if area_all is None else area_all[inside]
    repaired = np.zeros(conv.size, dtype=bool)
    if spec.geometry == "polygon" and conv.size:
        if repair:  # repairing changes values: now
            conv, repaired = _validity(conv, positions, report, repair)
            if repaired.any():
                area = area.copy()
                area[repaired] = ellipsoid_area_m2(conv[repaired])
        else:       # refusing only adds errors: later
            checked = conv
            later.append(lambda into: _validity(checked, positions, into, repair))
        if min_area_m2 > 0:
            tiny = area < min_area_m2
            # an invalid polygon (a bow-tie measures ~0) is refused as invalid, not as a sliver
            tiny[tiny] = shapely.is_valid(conv[tiny])
            report.add(ERROR, "geometry", [f"is a sliver of {a:.3g} m², far smaller than any real parcel (the "
                                           f"smallest accepted is {min_area_m2:g} m²); remove it or merge it with "
                                           "its neighbour" for a in area[tiny]], positions[tiny])
        single = shapely.get_type_id(conv) == 3
        if single.any():  # the column is MultiPolygon: promote single polygons
            conv = conv.copy()
            conv[single] = shapely.multipolygons(conv[single], indices=np.arange(int(single.sum())))
    out[positions] = conv
    areas = None
    if area is not None:
        areas = np.full(n, np.nan)
        areas[positions] = area
    if spec_crs.label != crsmod.STORAGE_LABEL:
        report.add(INFO, "crs", f"coordinates converted from {spec_crs.label} to {crsmod.STORAGE_LABEL}")
    wkb = None
    if keep_wkb and source.wkb is not None:
        as_read = np.zeros(n, dtype=bool)
        if spec.geometry == "polygon" and crsmod.keeps_coordinates(spec_crs):
            flat = np.zeros(n, dtype=bool)
            flat[work] = ~has_z & ~has_m
            as_read[positions] = ~repaired
            as_read &= flat & (type_ids == 6)  # 6: MultiPolygon (a Polygon was promoted)
        wkb = _file_wkb(source.wkb, as_read)
    return spec_crs.label, out, wkb, areas


#: the first bytes of little-endian (01) WKB of a 2D MultiPolygon (type 6; no SRID, Z or M flag)
_MULTIPOLYGON_WKB = b"\x01\x06\x00\x00\x00"


def _file_wkb(wkb: pa.ChunkedArray | pa.Array, as_read: np.ndarray) -> pa.ChunkedArray | pa.Array:
    """The file's ``wkb`` where ``as_read`` and its header says little-endian 2D MultiPolygon; null
    elsewhere. Vectorised in Arrow: the bytes are neither copied per row nor turned into objects."""
    header = pc.binary_slice(wkb, 0, len(_MULTIPOLYGON_WKB))
    plain = np.asarray(pc.fill_null(pc.equal(header, pa.scalar(_MULTIPOLYGON_WKB, header.type)), False))
    keep = as_read & plain
    if keep.all():
        return wkb
    return pc.if_else(pa.array(keep), wkb, pa.scalar(None, wkb.type))


def _validity(geoms: np.ndarray, positions: np.ndarray, report: Report,
              repair: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(geometries, which were repaired)``: the invalid ones refused, or repaired when ``repair``."""
    valid = shapely.is_valid(geoms)
    repaired = np.zeros(geoms.size, dtype=bool)
    if valid.all():
        return geoms, repaired
    bad = np.flatnonzero(~valid)
    reasons = shapely.is_valid_reason(geoms[bad])
    if not repair:
        report.add(ERROR, "geometry", [f"invalid geometry: {r} (rerun with --repair to fix it)" for r in reasons],
                   positions[bad])
        return geoms, repaired
    fixed = shapely.make_valid(geoms[bad])
    geoms = geoms.copy()
    for j, (i, g, r) in enumerate(zip(bad, fixed, reasons)):
        polys = _polygonal(g)
        if polys is None:
            report.add(ERROR, "geometry", f"invalid geometry: {r}; repair leaves no area", [positions[i]])
            continue
        before, after = abs(shapely.area(geoms[i])), shapely.area(polys)
        change = f", area changed by {100 * (after - before) / before:+.1f}%" if before > 0 else ""
        report.add(WARNING, "geometry", f"repaired ({r}){change}", [positions[i]])
        geoms[i] = polys
        repaired[i] = True
    return geoms, repaired


def _polygonal(geom) -> shapely.MultiPolygon | None:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    polys = [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    return shapely.MultiPolygon(polys) if polys else None


# -- GCJ-02 read as WGS84 -----------------------------------------------------------------------------

#: GCJ-02 moves a point in and around Shanghai by ~0.45-0.55 km; the window is wider so that data
#: from elsewhere in China (the offset varies from ~0.1 to ~0.7 km) is recognised too
GCJ02_OFFSET_M = (100.0, 1500.0)
#: read as GCJ-02, a matched feature must land this close to what it matches (the offset varies by
#: metres across a zone; digitising differs by a few)
GCJ02_MATCH_M = 30.0


def _looks_like_gcj02(kind: str, rows: pd.DataFrame, reference: Reference, report: Report, source_crs: str,
                      given: str | None, outside: np.ndarray) -> None:
    """Refuse lon/lat that are GCJ-02 (Gaode/Tencent basemaps) read as WGS84/CGCS2000: the file's
    features lie a systematic ~0.5 km off what the database holds (the same parcels or zone
    boundaries by code; for new zones, a boundary they would then coincide with), or parcels fall
    outside every zone, and read as GCJ-02 they fit. An error unless the CRS was given explicitly
    (--crs EPSG:4326/4490 says the person knows): then a warning."""
    if kind not in ("parcels", "zones") or source_crs not in ("EPSG:4326", crsmod.STORAGE_LABEL) or "geom" not in rows:
        return
    geoms = rows["geom"].to_numpy()
    have = ~pd.isna(geoms)
    if not have.any():
        return
    severity = WARNING if given is not None else ERROR
    head = "looks like GCJ-02: rerun with --crs gcj02"
    stored = None
    if kind == "parcels" and reference.stored_centroids is not None and len(reference.stored_centroids):
        stored = reference.stored_centroids
    elif kind == "zones" and reference.zones is not None and len(reference.zones):
        c = shapely.centroid(reference.zones["geom"].to_numpy())
        stored = pd.DataFrame({"code": reference.zones["code"], "x": shapely.get_x(c), "y": shapely.get_y(c)})
    if stored is not None:
        # only the features that name a stored one (at most GCJ02_SAMPLE parcels) are measured
        codes = rows["code"] if "code" in rows else pd.Series([None] * len(rows))
        k = pd.Series(codes.to_numpy(dtype=object)[have]).map(
            dict(zip(stored["code"], range(len(stored))))).fillna(-1).to_numpy(dtype=np.int64)
        if kind == "parcels":
            have = np.flatnonzero(have)[k >= 0]
            k = k[k >= 0]
        else:
            have = np.flatnonzero(have)
        centroids = shapely.centroid(geoms[have])
        fx, fy = shapely.get_x(centroids), shapely.get_y(centroids)
        wx, wy = crsmod.gcj02_to_wgs84(fx, fy)
        if kind == "zones":  # a new code: the boundary the feature, read as GCJ-02, lands on
            sx_all, sy_all = stored["x"].to_numpy(), stored["y"].to_numpy()
            for i in np.flatnonzero(k < 0):
                d = _GEOD.inv(np.full(sx_all.size, wx[i]), np.full(sx_all.size, wy[i]), sx_all, sy_all)[2]
                if d.min() < GCJ02_MATCH_M:
                    k[i] = int(d.argmin())
        pair = k >= 0
        if pair.any():
            sx, sy = stored["x"].to_numpy()[k[pair]], stored["y"].to_numpy()[k[pair]]
            before = _GEOD.inv(fx[pair], fy[pair], sx, sy)[2]
            after = _GEOD.inv(wx[pair], wy[pair], sx, sy)[2]
            shifted = (before >= GCJ02_OFFSET_M[0]) & (before <= GCJ02_OFFSET_M[1]) & (after < GCJ02_MATCH_M)
            if shifted.mean() >= 0.8:
                what = "parcels" if kind == "parcels" else "zone boundaries"
                report.add(severity, "crs", f"{head} (the features lie ~{np.median(before):,.0f} m from the "
                           f"{what} of the same code in the database; read as GCJ-02, the Gaode/Tencent offset, "
                           "they coincide)")
                return
    if kind == "parcels" and outside.size and reference.zones is not None and len(reference.zones):
        tree = shapely.STRtree(reference.zones["geom"].to_numpy())
        points = shapely.point_on_surface(geoms[~pd.isna(geoms)])
        px, py = crsmod.gcj02_to_wgs84(shapely.get_x(points), shapely.get_y(points))
        inside_after = np.zeros(points.size, dtype=bool)
        inside_after[tree.query(shapely.points(px, py), predicate="within")[0]] = True
        still = int((~inside_after).sum())
        if still <= 0.2 * outside.size:
            report.add(severity, "crs", f"{head} ({outside.size} of the features lie outside every zone; read as "
                       f"GCJ-02, the Gaode/Tencent offset, {still} would)")


# -- per kind -------------------------------------------------------------------------------------

def _map(values: pd.Series, table: dict) -> pd.Series:
    """``values`` looked up in ``table`` (None where missing or unknown), as objects; vectorised.

    Each distinct value is looked up once (a million rows name a few thousand codes or names).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # as Python objects in one conversion: iterating an Arrow-backed array value by value costs
    # seconds for the ~800k distinct enterprise names of a city
    keys = uniques.to_numpy(dtype=object) if hasattr(uniques, "to_numpy") else np.asarray(uniques, dtype=object)
    looked = np.array([None, *map(table.get, keys)], dtype=object)
    return pd.Series(looked[codes + 1], index=values.index, dtype=object)


def _duplicates(report: Report, values: pd.Series, field_name: str, what: str) -> None:
    s = pd.Series(values)
    dup = s.notna() & s.duplicated(keep=False)
    if not dup.any():
        return
    first = s[dup].groupby(s[dup]).transform(lambda g: g.index[0])
    pos = np.flatnonzero(dup.to_numpy())
    msgs = []
    for p, f in zip(pos, first.to_numpy()):
        other = report.where(int(f)) if int(f) != p else None
        if other is None:  # the first occurrence names the second
            second = s[dup][s[dup] == s.iat[p]].index[1]
            other = report.where(int(second))
        msgs.append(f"{what} {str(s.iat[p])[:60]!r} appears more than once in the file (also {other})")
    report.add(ERROR, field_name, msgs, pos)


def _existing(report: Report, keys: pd.Series, reference: Reference, field_name: str, what: str,
              update_existing: bool) -> np.ndarray:
    exists = keys.isin(reference.existing_keys).to_numpy(dtype=bool) & keys.notna().to_numpy()
    if exists.any() and not update_existing:
        report.add(ERROR, field_name, [f"{what} {str(k)[:60]!r} is already in the database (use --update-existing "
                                       "to update it)" for k in keys[exists]], np.flatnonzero(exists))
    return exists


def _lookup(report: Report, values: pd.Series, table: dict[str, str], field_name: str, message) -> pd.Series:
    norm = values.astype("string").str.strip().str.lower()
    mapped = _map(norm, table)
    unknown = values.notna().to_numpy() & pd.isna(mapped).to_numpy()
    if unknown.any():
        report.add(ERROR, field_name, [message(v) for v in values[unknown]], np.flatnonzero(unknown))
    return mapped


def _land_use(rows: pd.DataFrame, reference: Reference, report: Report,
              tallies: dict[str, int] | None = None) -> None:
    if "land_use_code" not in rows:
        return
    raw = rows["land_use_code"].astype("string").str.strip()
    upper = raw.str.upper()
    is_national = raw.isin(reference.land_use_codes).fillna(False).to_numpy()
    legacy = _map(upper, reference.legacy_codes)
    is_legacy = ~is_national & legacy.notna().to_numpy()
    unknown = raw.notna().to_numpy() & ~is_national & ~is_legacy
    msgs = []
    for v in raw[unknown]:
        hint = ""
        if v.isdigit() and ("0" + v) in reference.land_use_codes:
            hint = f" (did you mean 0{v}? a spreadsheet may have dropped the leading zero)"
        msgs.append(f"{v[:20]!r} is neither a code of the national classification (land.land_use_codes) nor a "
                    f"known GB 50137 code (land.legacy_land_use_codes){hint}")
    report.add(ERROR, "land_use_code", msgs, np.flatnonzero(unknown))
    rows["legacy_land_use_code"] = np.where(is_legacy, upper.to_numpy(dtype=object, na_value=None), None)
    rows["land_use_code"] = np.where(is_legacy, legacy.to_numpy(dtype=object), raw.to_numpy(dtype=object,
                                                                                            na_value=None))
    if is_legacy.any():
        pairs = pd.Series([f"{a}→{b}" for a, b in zip(upper[is_legacy], legacy[is_legacy])]).value_counts()
        if tallies is None:
            _legacy_mapped(report, pairs.to_dict())
        else:
            for k, v in pairs.items():
                tallies[k] = tallies.get(k, 0) + int(v)


def _legacy_mapped(report: Report, pairs: dict[str, int]) -> None:
    if pairs:
        report.add(INFO, "land_use_code", "legacy GB 50137 codes mapped: "
                   + ", ".join(f"{k} ×{v}" for k, v in sorted(pairs.items(), key=lambda kv: -kv[1])))


def _locate(geoms: np.ndarray, reference: Reference, points: np.ndarray | None = None) -> tuple | None:
    """``(tree of the zones, features, zones)``: feature k (among those with a geometry) lies in
    zone j when its point on surface does; None when the database has no zone in force."""
    zones = reference.zones
    if zones is None or zones.empty:
        return None
    tree = shapely.STRtree(zones["geom"].to_numpy())
    pts = shapely.point_on_surface(geoms[~pd.isna(geoms)]) if points is None else points
    idx_pt, idx_zone = tree.query(pts, predicate="within")
    return tree, idx_pt, idx_zone


def _assign_zones(rows: pd.DataFrame, reference: Reference, report: Report, located: tuple | None = None) -> None:
    geoms = rows["geom"].to_numpy()
    have = ~pd.isna(geoms)
    zone_ids = np.full(len(rows), -1, dtype=np.int64)
    zones = reference.zones
    if zones is None or zones.empty:
        report.add(ERROR, "geometry", "the database holds no zone boundaries in force; import zones first")
        rows["zone_id"] = zone_ids
        return
    tree, idx_pt, idx_zone = located or _locate(geoms, reference)
    pos = np.flatnonzero(have)
    zone_ids[pos[idx_pt]] = zones["id"].to_numpy()[idx_zone]
    inside = np.zeros(pos.size, dtype=bool)
    inside[idx_pt] = True
    outside = pos[~inside]
    rows.attrs["outside"] = tuple(outside.tolist())  # for _looks_like_gcj02; popped by validate
    if outside.size:
        msgs = []
        for k, p in enumerate(outside):
            if k < 200:  # the nearest zone helps a person; not worth it for a whole wrong file
                j = tree.nearest(geoms[p])
                a, b = shapely.shortest_line(geoms[p], zones["geom"].iat[j]).coords
                dist = _GEOD.inv(a[0], a[1], b[0], b[1])[2]
                msgs.append(f"lies outside every zone's approved boundary in force (nearest: {zones['code'].iat[j]}, "
                            f"{dist:,.0f} m away)")
            else:
                msgs.append("lies outside every zone's approved boundary in force")
        report.add(ERROR, "geometry", msgs, outside)
    if "zone_code" in rows:
        code_to_id = dict(zip(zones["code"], zones["id"]))
        id_to_code = dict(zip(zones["id"], zones["code"]))
        given = rows["zone_code"]
        given_id = _map(given, code_to_id).astype(float).fillna(-2).to_numpy().copy()
        given_id[given.isna().to_numpy()] = -1
        unknown = given.notna().to_numpy() & (given_id == -2)
        report.add(ERROR, "zone_code", [f"{c[:40]!r} is not a zone in the database" for c in given[unknown]],
                   np.flatnonzero(unknown))
        clash = (given_id >= 0) & (zone_ids >= 0) & (given_id != zone_ids)
        report.add(ERROR, "zone_code", [f"says {c!r} but the parcel lies in zone {id_to_code[z]!r}"
                                        for c, z in zip(given[clash], zone_ids[clash])], np.flatnonzero(clash))
    rows["zone_id"] = zone_ids


def _enterprises(rows: pd.DataFrame, reference: Reference, report: Report) -> None:
    ent = pd.Series([None] * len(rows), dtype=object)
    if "enterprise_credit_code" in rows:
        cc = rows["enterprise_credit_code"]
        hit = _map(cc, reference.enterprises_by_credit)
        unknown = cc.notna().to_numpy() & pd.isna(hit).to_numpy()
        report.add(ERROR, "enterprise_credit_code", [f"no enterprise with credit code {c!r} in the database" for c in
                                                     cc[unknown]], np.flatnonzero(unknown))
        ent = hit.astype(object)
    if "enterprise_zh" in rows:
        names = rows["enterprise_zh"]
        todo = names.notna().to_numpy() & pd.isna(ent).to_numpy()
        hit = _map(names, reference.enterprises_by_name)
        unknown = todo & pd.isna(hit).to_numpy()
        report.add(ERROR, "enterprise_zh", [f"no enterprise named {c[:60]!r} in the database (leave it empty to import "
                                            "without one)" for c in names[unknown]], np.flatnonzero(unknown))
        ambiguous = todo & (hit.to_numpy() == -1)
        report.add(ERROR, "enterprise_zh", "several enterprises have this name; give enterprise_credit_code",
                   np.flatnonzero(ambiguous))
        fill = todo & ~unknown & ~ambiguous
        ent[fill] = hit[fill]
    rows["enterprise_id"] = ent.to_numpy()


def _check_parcels(rows: pd.DataFrame, reference: Reference, report: Report, update_existing: bool,
                   later: list[Callable[[Report], None]], located: tuple | None = None, file_checks: bool = True,
                   tallies: dict[str, int] | None = None) -> None:
    _land_use(rows, reference, report, tallies)
    statuses = reference.statuses
    if "status" in rows:
        rows["status"] = _lookup(report, rows["status"], statuses, "status",
                                 lambda v: f"{v[:40]!r} is not a parcel status (one of: "
                                 f"{', '.join(sorted(set(statuses.values())))})").to_numpy(dtype=object)
        empty = pd.isna(rows["status"]).to_numpy()
        rows.loc[empty, "status"] = DEFAULT_STATUS
    else:
        rows["status"] = DEFAULT_STATUS
        rows.attrs["defaulted"] = {"status"}  # new parcels get it; existing ones keep theirs
        report.add(INFO, "status", f"no status column; new parcels get {DEFAULT_STATUS!r}")
    if "code" in rows:
        codes = rows["code"]
        if file_checks:
            later.append(lambda into: _duplicates(into, codes, "code", "parcel code"))
        rows["exists"] = _existing(report, rows["code"], reference, "code", "parcel code", update_existing)
    if "plot_ratio_min" in rows and "plot_ratio_max" in rows:
        low, high = rows["plot_ratio_min"], rows["plot_ratio_max"]
        later.append(lambda into: into.add(ERROR, "plot_ratio_min", "is greater than plot_ratio_max",
                                           np.flatnonzero((low > high).fillna(False).to_numpy())))
    _enterprises(rows, reference, report)
    if "geom" in rows:
        geoms = rows["geom"].to_numpy()
        have = ~pd.isna(geoms)
        if have.any():
            if file_checks:
                later.append(lambda into: _duplicate_geometries(geoms, have, into))
                later.append(lambda into: _overlapping_geometries(geoms, have, into))
            _assign_zones(rows, reference, report, located)


def _duplicate_geometries(geoms: np.ndarray, have: np.ndarray, report: Report) -> None:
    """Features with the same geometry (any vertex order): candidates share bounds and area, then
    GEOS confirms equality. Cheaper on a million parcels than normalising and hashing every one."""
    pos = np.flatnonzero(have)
    g = geoms[have]
    key = pd.DataFrame(shapely.bounds(g), columns=["a", "b", "c", "d"]).assign(e=shapely.area(g))
    cand = key.duplicated(keep=False).to_numpy()
    if not cand.any():
        return
    groups = key[cand].groupby(["a", "b", "c", "d", "e"]).indices
    bad, msgs = [], []
    for members in groups.values():
        members = np.asarray(key.index[cand][members])
        first = members[0]
        for m in members[1:]:
            if shapely.equals(g[first], g[m]):
                bad.append(pos[m])
                msgs.append(f"the same geometry as {report.where(int(pos[first]))}")
    report.add(ERROR, "geometry", msgs, bad)


#: Parcels may share edges but not land: an overlap above this is an error (the database's
#: land.new_parcel_problems and land.parcel_geometry_problems use the same tolerance).
OVERLAP_TOLERANCE_M2 = 1.0


def _overlapping_geometries(geoms: np.ndarray, have: np.ndarray, report: Report) -> None:
    """Features whose land overlaps another feature's by more than the tolerance (identical
    geometries are reported as duplicates instead). GEOS finds the pairs that meet at all
    (prepared geometries in an STRtree: neighbours apart by a road are no pair), then tells those
    that share interior from those that only touch along an edge, and measures the shared area."""
    pos = np.flatnonzero(have)
    g = geoms[have]
    if len(g) < 2:
        return
    first, second = shapely.STRtree(g).query(g, predicate="intersects")
    pairs = first < second
    first, second = first[pairs], second[pairs]
    if not len(first):
        return
    interior = shapely.relate_pattern(g[first], g[second], "2********") & ~shapely.equals(g[first], g[second])
    first, second = first[interior], second[interior]
    if not len(first):
        return
    area = ellipsoid_area_m2(shapely.intersection(g[first], g[second]))
    big = area > OVERLAP_TOLERANCE_M2
    msgs = [f"overlaps {report.where(int(pos[a]))} by {m2:,.1f} m² (parcels may share edges, not land)"
            for a, m2 in zip(first[big], area[big])]
    report.add(ERROR, "geometry", msgs, pos[second[big]])


def _check_zones(rows: pd.DataFrame, reference: Reference, report: Report, update_existing: bool,
                 later: list[Callable[[Report], None]]) -> None:
    if "code" in rows:
        _duplicates(report, rows["code"], "code", "zone code")
        rows["exists"] = _existing(report, rows["code"], reference, "code", "zone code", update_existing)
    districts = reference.districts if reference.districts is not None else pd.DataFrame(
        columns=["id", "code", "name_zh", "name_en"])
    table: dict[str, int] = {}
    for col in ("name_en", "name_zh", "code"):
        table.update({str(v).strip().lower(): i for v, i in zip(districts[col], districts["id"])})
    district = pd.Series([None] * len(rows), dtype=object)
    for col in ("district_code", "district_zh", "district_en"):
        if col in rows:
            todo = pd.isna(district).to_numpy() & rows[col].notna().to_numpy()
            hit = _map(rows[col].astype("string").str.lower(), table)
            unknown = todo & pd.isna(hit).to_numpy()
            report.add(ERROR, col, [f"{v[:40]!r} is not a district in the database" for v in rows[col][unknown]],
                       np.flatnonzero(unknown))
            district[todo & ~unknown] = hit[todo & ~unknown]
    if not any(c in rows for c in ("district_code", "district_zh", "district_en")):
        report.add(ERROR, "district_code", "column missing (give district_code, district_zh or district_en)")
    else:
        none = pd.isna(district).to_numpy() & ~np.isin(np.arange(len(rows)), report.error_positions())
        report.add(ERROR, "district_code", "is empty; every zone belongs to a district", np.flatnonzero(none))
    rows["district_id"] = district.to_numpy()
    for col, allowed in (("kind", ZONE_KINDS), ("region", REGIONS)):
        if col in rows:
            bad = rows[col].notna().to_numpy() & ~rows[col].isin(allowed).to_numpy()
            report.add(ERROR, col, [f"{v[:40]!r} is not one of {', '.join(allowed)}" for v in rows[col][bad]],
                       np.flatnonzero(bad))
    if "valid_from" not in rows:
        rows["valid_from"] = None
    today = dt.date.today()
    no_date = pd.isna(rows["valid_from"]).to_numpy()
    if no_date.any():
        rows.loc[no_date, "valid_from"] = today
        report.add(INFO, "valid_from", f"boundaries without valid_from take effect today ({today.isoformat()})")
    if "geom" in rows:
        geoms = rows["geom"].to_numpy()
        have = ~pd.isna(geoms)
        if have.sum() > 1:
            tree = shapely.STRtree(geoms[have])
            a, b = tree.query(geoms[have], predicate="overlaps")
            pos = np.flatnonzero(have)
            for i, j in zip(a, b):
                if i < j:
                    report.add(WARNING, "geometry", f"overlaps {report.where(int(pos[j]))}", [pos[i]])


def _check_districts(rows: pd.DataFrame, reference: Reference, report: Report, update_existing: bool,
                     later: list[Callable[[Report], None]]) -> None:
    if "code" in rows:
        _duplicates(report, rows["code"], "code", "district code")
        rows["exists"] = _existing(report, rows["code"], reference, "code", "district code", update_existing)
    if "geom" in rows:
        # districts tile the city: shared edges are fine, shared land means a wrong boundary
        geoms = rows["geom"].to_numpy()
        have = np.flatnonzero(~pd.isna(geoms))
        if have.size > 1:
            a, b = shapely.STRtree(geoms[have]).query(geoms[have], predicate="intersects")
            keep = a < b
            a, b = a[keep], b[keep]
            inner = shapely.relate_pattern(geoms[have][a], geoms[have][b], "2********") if a.size else []
            for i, j in zip(a[inner], b[inner]):
                m2 = float(ellipsoid_area_m2(np.array([shapely.intersection(geoms[have[i]], geoms[have[j]])]))[0])
                if m2 > OVERLAP_TOLERANCE_M2:
                    report.add(ERROR, "geometry", f"overlaps {report.where(int(have[j]))} by {m2:,.1f} m² "
                               "(districts may share edges, not land)", [have[i]])


def _check_metrics(rows: pd.DataFrame, reference: Reference, report: Report, update_existing: bool,
                   later: list[Callable[[Report], None]]) -> None:
    parcels = reference.parcels if reference.parcels is not None else pd.DataFrame(
        columns=["id", "code", "enterprise_id", "geom"])
    by_code = dict(zip(parcels["code"], parcels["id"]))
    parcel_id = pd.Series([None] * len(rows), dtype=object)
    if "parcel_code" in rows:
        codes = rows["parcel_code"]
        hit = _map(codes, by_code)
        unknown = codes.notna().to_numpy() & pd.isna(hit).to_numpy()
        report.add(ERROR, "parcel_code", [f"no parcel {c[:60]!r} in the database" for c in codes[unknown]],
                   np.flatnonzero(unknown))
        parcel_id = hit.astype(object)
    if "geom" in rows and not parcels.empty:
        todo = pd.isna(parcel_id).to_numpy() & ~pd.isna(rows["geom"]).to_numpy()
        if todo.any():
            tree = shapely.STRtree(parcels["geom"].to_numpy())
            pts = rows["geom"].to_numpy()[todo]
            ip, iparcel = tree.query(pts, predicate="within")
            found = np.full(pts.size, None, dtype=object)
            found[ip] = parcels["id"].to_numpy()[iparcel]
            pos = np.flatnonzero(todo)
            report.add(ERROR, "geometry", "the point lies in no parcel", pos[pd.isna(found)])
            parcel_id[pos] = found
    neither = pd.isna(parcel_id).to_numpy() & ~np.isin(np.arange(len(rows)), report.error_positions())
    report.add(ERROR, "parcel_code", "is empty and the row has no location; give parcel_code (or lon/lat)",
               np.flatnonzero(neither))
    rows["parcel_id"] = parcel_id.to_numpy()
    _enterprises(rows, reference, report)
    parcel_ent = dict(zip(parcels["id"], parcels["enterprise_id"]))
    ent = rows["enterprise_id"].to_numpy(dtype=object).copy()
    fill = pd.isna(ent) & ~pd.isna(rows["parcel_id"]).to_numpy()
    ent[fill] = [parcel_ent.get(p) for p in rows["parcel_id"][fill]]
    ent = np.array([None if (e is None or pd.isna(e)) else int(e) for e in ent], dtype=object)
    rows["enterprise_id"] = ent
    no_ent = pd.isna(ent) & ~pd.isna(rows["parcel_id"]).to_numpy()
    report.add(ERROR, "enterprise_zh", "no enterprise given and the parcel has none on record", np.flatnonzero(no_ent))
    if "grading_category" in rows:
        bad = rows["grading_category"].notna().to_numpy() & ~rows["grading_category"].isin(GRADING_CATEGORIES).to_numpy()
        report.add(ERROR, "grading_category", [f"{v[:30]!r} is not one of {', '.join(GRADING_CATEGORIES)}"
                                               for v in rows["grading_category"][bad]], np.flatnonzero(bad))
    years = rows["year"] if "year" in rows else pd.Series([None] * len(rows))
    key = [None if (pd.isna(p) or pd.isna(e) or pd.isna(y)) else (int(p), int(e), int(y))
           for p, e, y in zip(rows["parcel_id"], rows["enterprise_id"], years)]
    codes = report.codes if report.codes is not None else [""] * len(rows)
    label = [f"{c or ''}/{k[2]}" if k else "" for c, k in zip(codes, key)]
    keyed = np.array([k is not None for k in key], dtype=bool)
    dup = np.zeros(len(rows), dtype=bool)
    if keyed.any():
        dup[keyed] = pd.Series([k for k in key if k is not None]).duplicated(keep=False).to_numpy()
    report.add(ERROR, "year", [f"parcel/year {label[i]} appears more than once in the file"
                               for i in np.flatnonzero(dup)], np.flatnonzero(dup))
    rows["key"] = pd.Series(key, dtype=object).to_numpy()
    exists = np.array([k is not None and k in reference.existing_keys for k in key], dtype=bool)
    if exists.any() and not update_existing:
        report.add(ERROR, "year", [f"metrics for parcel/year {label[i]} are already in the database (use "
                                   "--update-existing to replace them)" for i in np.flatnonzero(exists)],
                   np.flatnonzero(exists))
    rows["exists"] = exists
