"""Every UI label in Chinese (default) and English: the one translation source.

Layer titles and field labels live in the layer declarations; everything else is here.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")

TEXTS: dict[str, dict[str, str]] = {
    "app.title": {"zh": "上海综合保税区土地资源管理", "en": "Shanghai Bonded Zones Land Resources"},
    "app.synthetic": {"zh": "合成演示数据：边界、地块与企业均为虚构", "en": "Synthetic demo data: boundaries, parcels and enterprises are invented"},
    "map.layers": {"zh": "图层", "en": "Layers"},
    "map.legend": {"zh": "图例", "en": "Legend"},
    "map.basemap.none": {"zh": "无底图（离线）", "en": "No basemap (offline)"},
    "map.basemap.osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "map.basemap.tianditu": {"zh": "天地图", "en": "Tianditu"},
    "map.zoom_in": {"zh": "放大到 {zoom} 级以上显示地块（当前视野 {count} 块）",
                    "en": "Zoom to level {zoom} or closer to see parcels ({count} in view)"},
    "map.truncated": {"zh": "视野内地块过多，仅显示前 {count} 块", "en": "Too many parcels in view; showing the first {count}"},
    "detail.title": {"zh": "地块详情", "en": "Parcel detail"},
    "detail.empty": {"zh": "点击地图上的地块查看详情", "en": "Click a parcel on the map to see its details"},
    "lang.switch": {"zh": "English", "en": "中文"},
}


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The label ``key`` in ``lang`` (falls back to Chinese), formatted with ``values``.

    Example:
        >>> t("map.layers", "en")
        'Layers'
    """
    entry = TEXTS[key]
    text = entry.get(lang) or entry["zh"]
    return text.format(**values) if values else text
