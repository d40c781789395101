"""A printed map of one view (PNG or PDF): the layers' features drawn with their declared styles
(the same colours as the web map and the folium maps, :mod:`gisapp.render.style`), their labels
as the web map draws them (district and zone names, from the declared zoom on), a title, the
legend, a scale bar, a north arrow, the date and the data's note (e.g. that it is synthetic).

Pure rendering: the caller reads the frames (``gisapp.queries.layer_frames``) and gives the
words' language; nothing here touches a database or a request. Drawn with matplotlib's object
API (no pyplot): a figure per request, safe in a threaded server.

Example:
    >>> page = map_figure([PrintLayer(layer, frame)], (121.5, 31.2, 121.7, 31.35), "zh",
    ...                   note="合成演示数据")                           # doctest: +SKIP
    >>> png = page.to_bytes("png")                                      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import geopandas as gpd
import shapely
import shapely.ops
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator
from pyproj import Geod

from gisapp.catalog.schema import Layer
from gisapp.i18n import t
from gisapp.render.style import fill_color, legend

#: the page: A4 landscape; PNG pixels = inches x PNG_DPI
PAGE_INCHES = (11.7, 8.3)
PNG_DPI = 150
PNG_SIZE = (round(PAGE_INCHES[0] * PNG_DPI), round(PAGE_INCHES[1] * PNG_DPI))
FORMATS = {"png": "image/png", "pdf": "application/pdf"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: fonts with Chinese glyphs, first found wins (Debian: fonts-wqy-zenhei, which bootstrap installs);
#: matplotlib's default DejaVu has none, and Chinese labels would print as empty boxes
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
# CGCS2000's ellipsoid (EPSG:4490) is GRS80 to a tenth of a millimetre
_GEOD = Geod(ellps="GRS80")
_NICE = (1, 2, 5)
#: the map's box on the page (figure fractions: left, bottom, width, height)
MAP_BOX = (0.04, 0.12, 0.66, 0.76)
#: CSS pixels per inch: a printed view's zoom is the web map's that shows it as wide on a screen
CSS_DPI = 96


class Extent(NamedTuple):
    """The view in degrees (EPSG:4490), as the map's ``bbox`` gives it."""

    minx: float
    miny: float
    maxx: float
    maxy: float


@dataclass(frozen=True)
class PrintLayer:
    """One layer to draw: its declaration and its features in the view (EPSG:4490)."""

    layer: Layer
    frame: gpd.GeoDataFrame
    #: the view held more features than were read (only the first ones are drawn; the page says so)
    truncated: bool = False


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None."""
    return next((p for p in CJK_FONTS if Path(p).is_file()), None)


def _font(size: float, weight: str = "normal") -> FontProperties:
    path = cjk_font_path()
    return FontProperties(fname=path, size=size, weight=weight) if path else FontProperties(size=size, weight=weight)


def extent(bbox) -> Extent:
    """``bbox`` as an Extent: a 4-sequence or anything with minx, miny, maxx, maxy."""
    if hasattr(bbox, "minx"):
        return Extent(bbox.minx, bbox.miny, bbox.maxx, bbox.maxy)
    return Extent(*(float(v) for v in bbox))


def view_width_m(bbox) -> float:
    """The view's width in metres along its middle latitude (on the ellipsoid)."""
    bbox = extent(bbox)
    lat = (bbox.miny + bbox.maxy) / 2
    return abs(_GEOD.inv(bbox.minx, lat, bbox.maxx, lat)[2])


def scale_length(width_m: float, fraction: float = 0.25) -> float:
    """A round length (1, 2 or 5 x 10^k metres) no longer than ``fraction`` of ``width_m``."""
    target = max(width_m * fraction, 1e-3)
    power = 10 ** math.floor(math.log10(target))
    return max(n * power for n in _NICE if n * power <= target)


def scale_label(metres: float) -> str:
    """``500 m``, ``2 km``, ``1.5 km``."""
    if metres >= 1000:
        km = metres / 1000
        return f"{km:g} km"
    return f"{metres:g} m"


def print_zoom(bbox) -> float:
    """The web map's zoom at which the view is as wide on a screen as on the printed page (the
    page's map box at :data:`CSS_DPI`): the zoom the labels' ``min_zoom`` is compared with when
    the caller does not give the map's own."""
    bbox = extent(bbox)
    pixels = PAGE_INCHES[0] * MAP_BOX[2] * CSS_DPI
    return math.log2(360 * pixels / (256 * max(bbox.maxx - bbox.minx, 1e-9)))


def labelled(layer: Layer, zoom: float) -> bool:
    """Whether the web map labels ``layer``'s features at ``zoom`` (its declared labels' min zoom)."""
    return layer.labels is not None and zoom >= layer.labels.min_zoom


def _map_inches(bbox: Extent) -> tuple[float, float]:
    """The map's size on the page in inches once its aspect is kept (see :func:`map_figure`)."""
    width, height = PAGE_INCHES[0] * MAP_BOX[2], PAGE_INCHES[1] * MAP_BOX[3]
    ratio = (bbox.maxy - bbox.miny) / math.cos(math.radians((bbox.miny + bbox.maxy) / 2)) / (bbox.maxx - bbox.minx)
    return (width, width * ratio) if width * ratio <= height else (height / ratio, height)


def _text_half_size(text: str, size: float, bbox: Extent) -> tuple[float, float]:
    """Half the width and height of a one-line label in degrees (Chinese characters a full em,
    others about half; a little padding for the label's box)."""
    ems = sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in text) + 0.6
    inches_w, inches_h = _map_inches(bbox)
    per_inch_x, per_inch_y = (bbox.maxx - bbox.minx) / inches_w, (bbox.maxy - bbox.miny) / inches_h
    return ems * size / 72 / 2 * per_inch_x, 1.5 * size / 72 / 2 * per_inch_y


#: a feature's name is tried at points of a grid this fine over its part in view when the best
#: point is taken (by another name, the north arrow, the scale bar)
_LABEL_GRID = 6


def _label_box(geom, text: str, size: float, bbox: Extent, taken: list):
    """Where a feature's name goes, as the box the name takes: centred on the point of the
    feature's largest part in view farthest from that part's edges (else the nearest free point
    of that part), moved in so that the whole name is on the map; None when no such place is free
    or inside the feature (a sliver at the edge of the view is not named: its name could not be
    read as its own)."""
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    if largest.area <= 0:
        return None
    half_w, half_h = _text_half_size(text, size, bbox)
    if 2 * half_w >= bbox.maxx - bbox.minx or 2 * half_h >= bbox.maxy - bbox.miny:
        return None
    best = shapely.ops.polylabel(largest, tolerance=max(bbox.maxx - bbox.minx, bbox.maxy - bbox.miny) / 500)
    minx, miny, maxx, maxy = largest.bounds
    grid = [shapely.Point(minx + (maxx - minx) * (i + 0.5) / _LABEL_GRID, miny + (maxy - miny) * (j + 0.5) / _LABEL_GRID)
            for i in range(_LABEL_GRID) for j in range(_LABEL_GRID)]
    for point in [best, *sorted(grid, key=best.distance)]:
        x = min(max(point.x, bbox.minx + half_w), bbox.maxx - half_w)
        y = min(max(point.y, bbox.miny + half_h), bbox.maxy - half_h)
        if not largest.contains(shapely.Point(x, y)):
            continue
        box = shapely.box(x - half_w, y - half_h, x + half_w, y + half_h)
        if not any(box.intersects(other) for other in taken):
            return box
    return None


def _labels(ax, item: PrintLayer, bbox: Extent, lang: str, taken: list) -> list[str]:
    """Each feature's name inside its part in view, in the layer's outline colour on a light box
    (text, not outlines: a PDF reader finds and copies it), the larger parts first; a name that
    would cover one already written (``taken``, boxes) is left out. Returns the names written."""
    field = item.layer.labels.field(lang) if item.layer.labels else None
    if not field or field not in item.frame.columns or item.frame.empty:
        return []
    size = 9 if item.layer.base else 10
    clipped = shapely.clip_by_rect(item.frame.geometry.to_numpy(), *bbox)
    candidates = [(text, geom) for text, geom in zip(item.frame[field].to_numpy(dtype=object), clipped)
                  if isinstance(text, str) and text and geom is not None and not geom.is_empty]
    written = []
    for text, geom in sorted(candidates, key=lambda c: -c[1].area):
        box = _label_box(geom, text, size, bbox, taken)
        if box is None:
            continue
        taken.append(box)
        center = box.centroid
        ax.text(center.x, center.y, text, fontproperties=_font(size, "bold"), ha="center", va="center",
                color=item.layer.style.line_color or "#333333", zorder=40, clip_on=True,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": (1, 1, 1, 0.75), "edgecolor": "none"},
                gid=f"map-print-label-{item.layer.id}")
        written.append(text)
    return written


def _dashes(dash_array: str | None):
    if not dash_array:
        return "solid"
    numbers = [float(v) for v in dash_array.replace(",", " ").split()]
    return (0, tuple(numbers)) if numbers else "solid"


def _draw_layer(ax, item: PrintLayer) -> None:
    layer, frame = item.layer, item.frame
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.empty:
        return
    s = layer.style
    records = frame.drop(columns=frame.geometry.name).to_dict("records") if s.field else [{}] * len(frame)
    fills = [fill_color(layer, r) for r in records]
    # the web map's weights are screen pixels; a point is 4/3 of a CSS pixel
    width = s.weight * 0.75
    kinds = frame.geometry.geom_type.to_numpy()
    polygons = [k in ("Polygon", "MultiPolygon") for k in kinds]
    lines = [k in ("LineString", "MultiLineString") for k in kinds]
    points = [k in ("Point", "MultiPoint") for k in kinds]
    style = _dashes(s.dash_array)
    if any(polygons):
        chosen = frame[polygons]
        colours = [f for f, keep in zip(fills, polygons) if keep]
        chosen.plot(ax=ax, facecolor=[to_rgba(c, s.fill_opacity) for c in colours],
                    edgecolor=[s.line_color or c for c in colours], linewidth=width, linestyle=style)
    if any(lines):
        colours = [s.line_color or f for f, keep in zip(fills, lines) if keep]
        frame[lines].plot(ax=ax, color=colours, linewidth=max(width, 0.8), linestyle=style)
    if any(points):
        colours = [f for f, keep in zip(fills, points) if keep]
        frame[points].plot(ax=ax, color=colours, edgecolor=s.line_color or "#333333", markersize=18,
                           linewidth=0.4)


def _scale_bar(ax, bbox: Extent) -> None:
    width_m = view_width_m(bbox)
    length = scale_length(width_m)
    degrees = (bbox.maxx - bbox.minx) * length / width_m
    x0 = bbox.minx + (bbox.maxx - bbox.minx) * 0.04
    y0 = bbox.miny + (bbox.maxy - bbox.miny) * 0.04
    height = (bbox.maxy - bbox.miny) * 0.012
    ax.add_patch(Rectangle((x0 - degrees * 0.03, y0 - height * 0.8), degrees * 1.06, height * 4.3,
                           facecolor=(1, 1, 1, 0.8), edgecolor="none", zorder=50))
    for k in range(2):  # two halves, black and white, as on a survey map
        ax.add_patch(Rectangle((x0 + degrees * k / 2, y0), degrees / 2, height, facecolor="black" if k == 0 else "white",
                               edgecolor="black", linewidth=0.8, zorder=51))
    ax.text(x0, y0 + height * 1.6, "0", fontproperties=_font(8), ha="center", va="bottom", zorder=52)
    ax.text(x0 + degrees, y0 + height * 1.6, scale_label(length), fontproperties=_font(8), ha="center",
            va="bottom", zorder=52, gid="map-print-scale")


def _furniture(bbox: Extent) -> list:
    """The boxes (degrees) the scale bar and the north arrow take on the map: no name goes there."""
    dx, dy = bbox.maxx - bbox.minx, bbox.maxy - bbox.miny
    scale = view_width_m(bbox)
    bar = (bbox.maxx - bbox.minx) * scale_length(scale) / scale
    return [shapely.box(bbox.minx + dx * 0.02, bbox.miny + dy * 0.02, bbox.minx + dx * 0.06 + bar * 1.1,
                        bbox.miny + dy * 0.1),
            shapely.box(bbox.minx + dx * 0.91, bbox.miny + dy * 0.77, bbox.maxx, bbox.maxy)]


def _north_arrow(ax, lang: str) -> None:
    ax.annotate("", xy=(0.95, 0.95), xytext=(0.95, 0.85), xycoords="axes fraction", zorder=52,
                arrowprops={"facecolor": "black", "edgecolor": "black", "width": 4, "headwidth": 12, "headlength": 12})
    ax.text(0.95, 0.83, t("map.print.north", lang), transform=ax.transAxes, ha="center", va="top",
            fontproperties=_font(11, "bold"), zorder=52, gid="map-print-north")


def _legend(fig: Figure, items: list[PrintLayer], lang: str) -> None:
    ax = fig.add_axes((0.73, 0.12, 0.25, 0.76))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    rows: list[tuple[str, str | None, str | None]] = [(t("map.legend", lang), None, None)]
    for item in items:
        entries = [(entry.label, entry.color, item.layer.style.line_color) for entry in legend(item.layer, lang)]
        if item.layer.style.kind != "single":  # a single style's one entry is the layer's title already
            rows.append((item.layer.title.get(lang), None, None))
        rows += entries
    step = min(0.04, 1 / max(len(rows), 1))
    size = 9 if step >= 0.035 else max(5, 9 * step / 0.035)
    y = 1.0
    for k, (text, colour, line) in enumerate(rows):
        y -= step
        if colour is None:
            ax.text(0, y, text, fontproperties=_font(size + (2 if k == 0 else 1), "bold"), va="center")
            continue
        ax.add_patch(Rectangle((0.02, y - step * 0.3), 0.08, step * 0.6, facecolor=colour, edgecolor=line or colour,
                               linewidth=0.6))
        ax.text(0.14, y, text, fontproperties=_font(size), va="center")


@dataclass(frozen=True)
class PrintedMap:
    """A printed page and the words it carries (also written into the PDF's metadata)."""

    figure: Figure
    title: str
    date: str
    note: str | None

    def to_bytes(self, fmt: str) -> bytes:
        """PNG (:data:`PNG_SIZE` pixels) or PDF (A4 landscape, its text kept as text)."""
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
        buffer = io.BytesIO()
        if fmt == "pdf":
            metadata = {"Title": self.title, "Subject": self.note or "", "Creator": "gisapp"}
            self.figure.savefig(buffer, format="pdf", metadata=metadata)
        else:
            self.figure.savefig(buffer, format="png", dpi=PNG_DPI)
        return buffer.getvalue()


def map_figure(layers: list[PrintLayer], bbox, lang: str = "zh", *, note: str | None = None,
               as_of: dt.date | None = None, printed_at: dt.datetime | None = None,
               skipped: list[str] | None = None, zoom: float | None = None,
               year: int | None = None) -> PrintedMap:
    """The printed page of one view: ``layers`` drawn in the given order (first at the back).

    Args:
        bbox: the view, ``(minx, miny, maxx, maxy)`` in degrees (EPSG:4490) or anything with
            those four attributes.
        note: the data's note, printed under the map (e.g. "synthetic demo data").
        as_of: the day the map shows (None: today).
        printed_at: when (default: now, Asia/Shanghai).
        skipped: titles of layers asked for but not drawn (no past for ``as_of``).
        zoom: the web map's zoom of the view (None: :func:`print_zoom`); the layers with labels
            are labelled from their declared ``min_zoom`` on, as on the web map.
        year: the quota ledger's year the quota layers show (said under the title).
    """
    bbox = extent(bbox)
    zoom = print_zoom(bbox) if zoom is None else zoom
    printed_at = (printed_at or dt.datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    fig = Figure(figsize=PAGE_INCHES, dpi=PNG_DPI)
    fig.set_facecolor("white")
    title = t("map.print.title", lang)
    subtitle = t("map.print.layers", lang, layers=("、" if lang == "zh" else ", ").join(
        i.layer.title.get(lang) for i in layers) or "—")
    if year is not None and any(i.layer.quota for i in layers):
        subtitle += t("map.print.quota_year", lang, year=year)
    fig.text(0.04, 0.95, title, fontproperties=_font(17, "bold"), va="center", gid="map-print-title")
    fig.text(0.04, 0.915, subtitle, fontproperties=_font(10), va="center", color="#333333")

    ax = fig.add_axes(MAP_BOX)
    lat = (bbox.miny + bbox.maxy) / 2
    # a degree of longitude is cos(latitude) of a degree of latitude: this aspect keeps shapes
    # and the scale bar true at the view's middle latitude
    ax.set_aspect(1 / math.cos(math.radians(lat)), adjustable="box")
    drawn = 0
    for item in layers:
        _draw_layer(ax, item)
        drawn += len(item.frame)
    taken = _furniture(bbox)
    for item in reversed(layers):  # the names above every layer's shapes; the top layer's first
        if labelled(item.layer, zoom):
            _labels(ax, item, bbox, lang, taken)
    ax.set_xlabel("")  # geopandas labels the axes with the CRS's English axis names
    ax.set_ylabel("")
    ax.set_xlim(bbox.minx, bbox.maxx)
    ax.set_ylim(bbox.miny, bbox.maxy)
    ax.set_facecolor("#f7f7f4")
    # degrees written out in full (no offset, ASCII minus: the CJK font has no U+2212)
    decimals = max(0, math.ceil(-math.log10((bbox.maxx - bbox.minx) / 6))) + 1
    degrees = FuncFormatter(lambda v, _pos: f"{v:.{decimals}f}°")
    ax.xaxis.set_major_formatter(degrees)
    ax.yaxis.set_major_formatter(degrees)
    ax.tick_params(labelsize=7)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(5))
    if not drawn:
        ax.text(0.5, 0.5, t("map.print.empty", lang), transform=ax.transAxes, ha="center", va="center",
                fontproperties=_font(12), color="#555555")
    _scale_bar(ax, bbox)
    _north_arrow(ax, lang)
    _legend(fig, layers, lang)

    when = t("map.print.printed", lang, at=printed_at.strftime("%Y-%m-%d %H:%M"))
    if as_of:
        when += t("map.print.as_of", lang, day=as_of.isoformat())
    where = t("map.print.extent", lang, bbox=f"{bbox.minx:.5f}, {bbox.miny:.5f}, {bbox.maxx:.5f}, {bbox.maxy:.5f}")
    fig.text(0.04, 0.075, f"{when}    {where}", fontproperties=_font(8.5), va="center", gid="map-print-date")
    notes = [t("map.print.truncated", lang, layer=i.layer.title.get(lang), n=len(i.frame))
             for i in layers if i.truncated]
    if skipped:
        notes.append(t("map.as_of_skipped", lang, layers=("、" if lang == "zh" else ", ").join(skipped)))
    if notes:
        fig.text(0.04, 0.05, " ".join(notes), fontproperties=_font(8), va="center", color="#7f0000")
    if note:
        fig.text(0.04, 0.025, note, fontproperties=_font(10, "bold"), va="center", color="#b30000",
                 gid="map-print-note")
    return PrintedMap(fig, title, when, note)

