"""The notebook face of gisapp: read declared layers as GeoDataFrames, run the rules on frames,
draw folium maps with the web map's style and legend, import and export files.

Everything goes through the same declarations, queries, rules and styles as the web app and the
CLI, so a notebook sees the same data, verdicts and colours.

Example:
    >>> from gisapp import api
    >>> parcels = api.read_layer("parcels", zone="yangshan", fields=["code", "status", "area_m2"])  # doctest: +SKIP
    >>> m = api.explore(parcels)                                                              # doctest: +SKIP
    >>> findings = api.run_rule("idle_land", as_of="2026-06-30", zone="yangshan")            # doctest: +SKIP
    >>> api.export("parcels", "yangshan_gcj02.gpkg", zone="yangshan", crs="gcj02")           # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy.engine import Engine

from gisapp.catalog.registry import all_layers, get_layer
from gisapp.catalog.schema import Layer
from gisapp.errors import InputError
from gisapp.settings import Settings, get_settings

#: explore() refuses more features than this: a browser tab cannot hold a city of polygons
EXPLORE_MAX_FEATURES = 50_000

def connect(settings: Settings | None = None) -> Engine:
    """The engine for the configured database (GISAPP_* settings), starting the local cluster if
    it is the one in use and is not running.

    Example:
        >>> engine = connect()  # doctest: +SKIP
    """
    from gisapp.db.engine import check_connection, get_engine

    settings = settings or get_settings()
    if settings.uses_local_cluster:
        from gisapp.db.cluster import LocalCluster

        cluster = LocalCluster(settings)
        if not cluster.is_running():
            cluster.up()
    engine = get_engine(settings)
    check_connection(engine)
    return engine


def _eng(engine: Engine | None) -> Engine:
    # the process-wide engine of the current settings (made once per URL by gisapp.db.engine)
    from gisapp.db.engine import get_engine

    return engine if engine is not None else get_engine()


def _date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"as_of {value!r} is not a date (use YYYY-MM-DD)") from None


def layers(lang: str = "zh") -> pd.DataFrame:
    """The declared layers: id, title, source view, fields."""
    return pd.DataFrame([{"id": lyr.id, "title": lyr.title.get(lang), "source": lyr.source,
                          "fields": ", ".join(lyr.field_names)} for lyr in all_layers()])


def read_layer(layer_id: str, bbox=None, zone: str | None = None, as_of: dt.date | str | None = None,
               fields: Sequence[str] | None = None, engine: Engine | None = None,
               year: int | None = None) -> gpd.GeoDataFrame:
    """A declared layer as a GeoDataFrame in EPSG:4490.

    Args:
        layer_id: a layer declared in ``layers/*.yml`` (unknown -> NotFoundError).
        bbox: ``(minx, miny, maxx, maxy)`` in degrees, or ``"minx,miny,maxx,maxy"``.
        zone: a zone code (layers with a ``zone_code`` field).
        as_of: read the data as of this day: layers whose view reads ``gisapp_meta.as_of()`` (zones:
            the boundary in force that day) or that have a dated companion view (parcels: each
            parcel as recorded at the end of that day, from the audit history; see
            :func:`dated_layer`).
        fields: declared fields to keep (the id field is always kept).
        year: a quota layer (``quota_energy``, ``quota_pollutants``, ``quota_land``) for that year
            of the ledger; without it they show the latest year.

    Example:
        >>> read_layer("zones", fields=["code", "name_zh"]).columns.tolist()  # doctest: +SKIP
        ['id', 'code', 'name_zh', 'geometry']
        >>> read_layer("parcels", zone="yangshan", as_of="2026-06-30").status.value_counts()  # doctest: +SKIP
    """
    from gisapp.queries.layer_frames import read_layer_frame

    layer = get_layer(layer_id)
    day = _date(as_of)
    eng = _eng(engine)
    if day is not None:
        layer = dated_layer(layer, eng)
    return read_layer_frame(eng, layer, bbox=bbox, zone=zone, as_of=day, fields=fields, year=year)


def dated_layer(layer: Layer, engine: Engine) -> Layer:
    """The declaration to read ``layer`` as of a date.

    A layer whose source view shows today only (so that the map stays fast) may have a companion
    view named ``<source>_as_of`` with the same columns that reads ``gisapp_meta.as_of()``
    (``layers.parcels_as_of``: the parcels from the audit history); the declaration then reads
    that view. Otherwise the layer is returned unchanged (and refused if its view is not dated).
    The web map reads its past days the same way (:mod:`gisapp.queries.as_of`).
    """
    from gisapp.queries.as_of import dated_layer as dated

    return dated(layer, engine)


# -- rules ------------------------------------------------------------------------------------------

def rule_names() -> list[str]:
    """The names of the registered rules (those `run_rule` and `gisapp assess` run)."""
    from gisapp.rules.registry import rule_modules

    return [spec.name for module in rule_modules() for spec in module.SPECS]


def rule_inputs(rules: str | Sequence[str] | None = None, as_of: dt.date | str | None = None,
                zone: str | Sequence[str] | None = None, engine: Engine | None = None) -> dict[str, pd.DataFrame]:
    """The input frames the named rules read (all rules when None), from one database snapshot.

    Change them (a what-if: add a project, move a date) and pass them to :func:`run_rule`.
    """
    from gisapp.queries.rule_inputs import load_inputs
    from gisapp.rules.registry import inputs_for, modules_for

    names = [rules] if isinstance(rules, str) else rules
    zones = [zone] if isinstance(zone, str) else zone
    frames = list(inputs_for(modules_for(names)))
    if "parameter_overrides" not in frames:
        frames.append("parameter_overrides")
    return load_inputs(_eng(engine), frames, zone_codes=zones, as_of=_date(as_of))


def run_rule(name: str | Sequence[str], frames: Mapping[str, pd.DataFrame] | Engine | None = None,
             as_of: dt.date | str | None = None, zone: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Findings of rule ``name`` (or several) evaluated on ``frames``, or on the database's data.

    ``frames`` is a dict of input frames (see :func:`rule_inputs`), an engine, or None (the
    configured database). Nothing is stored: ``gisapp assess`` stores findings.

    Example:
        >>> f = run_rule("idle_land", as_of="2026-06-30", zone="yangshan")  # doctest: +SKIP
        >>> f[f.is_positive][["subject_id", "outcome", "explanation_zh"]].head()  # doctest: +SKIP
    """
    from gisapp.rules.evaluate import evaluate_rules

    names = [name] if isinstance(name, str) else list(name)
    day = _date(as_of) or dt.date.today()
    if frames is None or isinstance(frames, Engine):
        frames = rule_inputs(names, as_of=day, zone=zone, engine=frames)
    return evaluate_rules(dict(frames), day, rule_names=names)


# -- maps ---------------------------------------------------------------------------------------------

def _layer_of(data, layer: str | Layer | None) -> Layer | None:
    if isinstance(layer, Layer):
        return layer
    if isinstance(layer, str):
        return get_layer(layer)
    attr = getattr(data, "attrs", {}).get("gisapp_layer")
    return get_layer(attr) if attr else None


def legend_html(layer: Layer, lang: str = "zh", note: str | None = None) -> str:
    """The legend of ``layer`` as HTML: the same entries as the web map's legend."""
    from gisapp.render.style import legend

    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
        f'<span style="display:inline-block;width:14px;height:14px;background:{html.escape(item.color)};'
        f'border:1px solid #555"></span><span>{html.escape(item.label)}</span></div>'
        for item in legend(layer, lang))
    foot = f'<div style="margin-top:6px;color:#a33;font-size:11px">{html.escape(note)}</div>' if note else ""
    return (f'<div class="gisapp-legend" style="position:absolute;bottom:24px;right:12px;z-index:1000;'
            f'background:rgba(255,255,255,.92);padding:8px 10px;border:1px solid #999;border-radius:4px;'
            f'font:12px sans-serif;max-width:260px"><b>{html.escape(layer.title.get(lang))}</b>{rows}{foot}</div>')


def explore(data, layer: str | Layer | None = None, lang: str = "zh", tiles: str | None = None,
            popup: bool = True, m=None, max_features: int = EXPLORE_MAX_FEATURES, **read_kwargs):
    """A folium map of a layer (id) or a GeoDataFrame, styled and with the legend of the web map.

    Args:
        data: a layer id (read with ``read_kwargs``: bbox, zone, as_of, fields) or a GeoDataFrame
            (from :func:`read_layer`, which remembers its layer, or any frame with ``layer=``).
        layer: the declaration whose style and legend to use (default: the frame's layer).
        tiles: a folium basemap name; None (default) draws no basemap, so the map works offline.
        m: an existing folium map to add to.

    The map's page holds Leaflet itself (gisapp.render.offline) and links to no CDN: it draws
    without internet, in a notebook and saved as an HTML file.

    Example:
        >>> explore("parcels", zone="yangshan")  # doctest: +SKIP
    """
    import folium

    from gisapp.render.offline import offline_map
    from gisapp.render.style import folium_style_function

    if isinstance(data, str):
        layer = layer or data
        data = read_layer(data, **read_kwargs)
    decl = _layer_of(data, layer)
    if len(data) > max_features:
        raise InputError(f"{len(data):,} features are too many for an interactive map (at most {max_features:,}); "
                         "filter by zone or bbox first")
    gdf = data.to_crs(4490) if data.crs is not None and data.crs.to_epsg() != 4490 else data
    frame = _json_ready(gdf)
    if m is None:
        m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    name = decl.title.get(lang) if decl else "layer"
    kwargs = {}
    if decl is not None:
        kwargs["style_function"] = folium_style_function(decl)
        fields = [f for f in (decl.popup or decl.field_names) if f in frame.columns]
        if popup and fields:
            aliases = [decl.label(f, lang) for f in fields]
            kwargs["popup"] = folium.GeoJsonPopup(fields=fields, aliases=aliases)
            kwargs["tooltip"] = folium.GeoJsonTooltip(fields=fields[:2], aliases=aliases[:2])
    folium.GeoJson(frame, name=name, **kwargs).add_to(m)
    if len(gdf):
        minx, miny, maxx, maxy = gdf.total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    if decl is not None:
        note = None
        if "is_synthetic" in gdf.columns and bool(gdf["is_synthetic"].fillna(False).any()):
            from gisapp.demo import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH

            note = SYNTHETIC_NOTE_EN if lang == "en" else SYNTHETIC_NOTE_ZH
        add_legend(m, decl, lang, note)
    return offline_map(m)


def add_legend(m, layer: Layer, lang: str = "zh", note: str | None = None):
    """Add the layer's legend to folium map ``m`` as an element of the map's page."""
    from branca.element import Element

    m.get_root().html.add_child(Element(legend_html(layer, lang, note)), name=f"gisapp_legend_{layer.id}")
    return m


def _json_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GeoJSON can carry: dates and decimals as text/floats, NA as None."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if s.dtype == object:
            out[col] = s.map(lambda v: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v)
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.astype(str)
        elif isinstance(s.dtype, (pd.BooleanDtype, pd.Int64Dtype)):
            out[col] = s.astype(object).where(s.notna(), None)
    return out


# -- files --------------------------------------------------------------------------------------------

def export(data, path: str | Path, format: str | None = None, crs: str = "EPSG:4490", zone: str | None = None,
           bbox=None, as_of: dt.date | str | None = None, fields: Sequence[str] | None = None,
           engine: Engine | None = None, lang: str = "zh", warn: Callable[[str], None] | None = None) -> Path:
    """Write a layer (id, with filters) or a GeoDataFrame to a file (gpkg, shp zip, geojson, csv,
    xlsx, kml) in ``crs`` (EPSG code, ``gcj02`` or ``bd09``). Returns the path.

    KML is always WGS84 (another ``crs`` is reprojected, with a note) and its placemarks carry the
    layer's colours and the feature's name; Shapefile texts longer than 254 bytes are kept whole in a
    sidecar table. Such notes go to ``warn`` (default: logged as warnings) and into the file.

    Example:
        >>> export("parcels", "yangshan.kml", zone="yangshan", crs="EPSG:4549", warn=print)  # doctest: +SKIP
        yangshan.kml: KML is always WGS84 (EPSG:4326): written in WGS84, not in the EPSG:4549 asked for; ...
    """
    from gisapp.io.writers import format_for, write_frame

    decl = None
    if isinstance(data, str):
        decl = get_layer(data)
        data = read_layer(data, bbox=bbox, zone=zone, as_of=as_of, fields=fields, engine=engine)
    else:
        decl = _layer_of(data, None)
    labels = {f.name: (f.label.zh, f.label.en) for f in decl.fields} if decl else None
    note = None
    if "is_synthetic" in data.columns and bool(data["is_synthetic"].fillna(False).any()):
        from gisapp.demo import SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ZH

        note = f"{SYNTHETIC_NOTE_ZH} / {SYNTHETIC_NOTE_EN}"
    kml = format_for(path, format) == "kml"
    return write_frame(data, path, fmt=format, crs=crs, layer_name=decl.id if decl else None, labels=labels, note=note,
                       id_field=decl.id_field if decl else None, name_field=_name_field(decl, data),
                       kml_style=_feature_styles(decl, data) if decl and kml else None, warn=warn)


def _name_field(decl: Layer | None, data) -> str | None:
    """The field naming a feature: the first the map's tooltip shows (the code, for every layer
    declared today), else the id field."""
    if decl is None:
        return "code" if "code" in data.columns else None
    first = [f for f in (decl.popup or decl.field_names) if f in data.columns][:1]
    return first[0] if first else (decl.id_field if decl.id_field in data.columns else None)


def _feature_styles(decl: Layer, data) -> dict[str, object]:
    """The style of each feature as plain data for the writer (io may not import render).

    The decision is the folium style function's, made once per distinct value of the style field,
    not per feature: a KML of every parcel needs no million Python calls.
    """
    import numpy as np

    from gisapp.render.style import folium_style_function

    style = folium_style_function(decl)
    field = decl.style.field
    values = data[field] if field and field in data.columns else pd.Series([None] * len(data), index=data.index)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # the last entry styles missing values (code -1)
    looks = [style({"properties": {field: v}}) for v in list(uniques)] + [style({"properties": {}})]

    def per_feature(key: str) -> np.ndarray:
        return np.asarray([look[key] for look in looks], dtype=object)[codes]

    return {"fill": per_feature("fillColor"), "line": per_feature("color"),
            "fill_opacity": per_feature("fillOpacity"), "width": per_feature("weight")}


def import_file(kind: str, path: str | Path, engine: Engine | None = None, **options):
    """Import a file (parcels, zones, metrics); see :func:`gisapp.io.importer.import_file`.

    A load writes the register, so by default it runs as the tables' owner (as ``gisapp import``
    does), not as the notebooks' read-mostly login role (docs/security.md).

    Example:
        >>> import_file("parcels", "survey.gpkg", crs="EPSG:4549", dry_run=True).report.table()  # doctest: +SKIP
    """
    from gisapp.db.engine import owner_engine
    from gisapp.io.importer import import_file as _import

    return _import(engine if engine is not None else owner_engine(), kind, path, **options)
