"""The HTML pages of the OGC API – Features service (``?f=html``, or a browser's Accept header): the
same documents as the JSON answers, as lists and tables a person reads. No script (the app's
Content-Security-Policy allows none inline), every label from gisapp.i18n, every value escaped.
"""

from __future__ import annotations

import json

from jinja2 import Environment

from gisapp.catalog.schema import Layer
from gisapp.i18n import t

_ENV = Environment(autoescape=True)

_PAGE = _ENV.from_string("""<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><title>{{ title }} · {{ service }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/gisapp.css"></head>
<body class="ogc-page">
<header><p><a id="ogc-home" href="{{ home }}">{{ service }}</a></p><h1 id="ogc-title">{{ title }}</h1>
{% if description %}<p id="ogc-description">{{ description }}</p>{% endif %}</header>
<main>
{{ body }}
{% if links %}<ul id="ogc-links">{% for l in links %}
<li><a href="{{ l.href }}" rel="{{ l.rel }}" type="{{ l.type }}">{{ l.title }}</a></li>{% endfor %}</ul>{% endif %}
</main>
<footer><p class="synthetic-banner">{{ synthetic }}</p></footer>
</body></html>""")

_TABLE = _ENV.from_string("""<table class="ogc-table" id="{{ table_id }}">
<thead><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for cell in row %}<td>{% if cell is mapping %}<a href="{{ cell.href }}">{{ cell.text }}</a>{% else %}{{ cell }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>""")

_PARAGRAPH = _ENV.from_string("""<p id="{{ pid }}">{{ text }}</p>""")


def _page(title: str, lang: str, home: str, body: str = "", links: list[dict] | None = None,
          description: str | None = None) -> str:
    from markupsafe import Markup

    return _PAGE.render(title=title, lang=lang, home=home, body=Markup(body), links=links or [],
                        description=description, service=t("ogc.title", lang), synthetic=t("app.synthetic", lang))


def _table(table_id: str, head: list[str], rows: list[list]) -> str:
    return _TABLE.render(table_id=table_id, head=head, rows=rows)


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def landing_html(doc: dict, lang: str, home: str) -> str:
    return _page(doc["title"], lang, home, links=doc["links"], description=doc.get("description"))


def conformance_html(doc: dict, lang: str, home: str) -> str:
    body = _table("ogc-conformance", [t("ogc.link.conformance", lang)], [[c] for c in doc["conformsTo"]])
    return _page(t("ogc.link.conformance", lang), lang, home, body, doc["links"])


def _html_link(doc: dict, rel: str) -> str | None:
    return next((lk["href"] for lk in doc["links"] if lk["rel"] == rel and lk["type"] == "text/html"), None)


def collections_html(doc: dict, lang: str, home: str) -> str:
    rows = []
    for c in doc["collections"]:
        page = next(lk["href"] for lk in c["links"] if lk["rel"] == "alternate")
        rows.append([{"href": page, "text": c["id"]}, c["title"], {"href": _html_link(c, "items"), "text": t("ogc.link.items_html", lang)}])
    body = _table("ogc-collections", ["id", t("ogc.html.label", lang), t("ogc.link.items_html", lang)], rows)
    return _page(t("ogc.link.collections", lang), lang, home, body, doc["links"])


def collection_html(doc: dict, queryables: dict, lang: str, home: str) -> str:
    extent = doc.get("extent", {}).get("spatial", {}).get("bbox", [[]])[0]
    body = _PARAGRAPH.render(pid="ogc-extent", text=f"{t('ogc.html.extent', lang)}: {', '.join(map(str, extent))}")
    body += _PARAGRAPH.render(pid="ogc-storage-crs", text=f"{t('ogc.html.storage_crs', lang)}: {doc['storageCrs']}")
    body += _table("ogc-crs", [t("ogc.html.crs", lang)], [[c] for c in doc["crs"]])
    body += queryables_table(queryables, lang)
    return _page(doc["title"], lang, home, body, doc["links"], doc.get("description"))


def queryables_table(doc: dict, lang: str) -> str:
    rows = [[name, p.get("title", name), p["type"] + (f" ({p['format']})" if p.get("format") else "")]
            for name, p in doc["properties"].items()]
    return _table("ogc-queryables", [t("ogc.html.field", lang), t("ogc.html.label", lang), t("ogc.html.type", lang)],
                  rows)


def queryables_html(doc: dict, lang: str, home: str, links: list[dict]) -> str:
    return _page(f"{doc['title']} · {t('ogc.link.queryables', lang)}", lang, home, queryables_table(doc, lang), links)


def items_html(layer: Layer, doc: dict, offset: int, lang: str, home: str, item_url) -> str:
    """A page of features as a table: id (a link to the feature), then each declared field."""
    names = layer.field_names
    features = doc["features"]
    if features and doc.get("numberMatched") is None:
        text = t("ogc.html.page", lang, first=offset + 1, last=offset + len(features))
    elif features:
        text = t("ogc.html.matched", lang, matched=doc["numberMatched"], first=offset + 1, last=offset + len(features))
    else:
        text = t("ogc.html.none", lang)
    body = _PARAGRAPH.render(pid="ogc-matched", text=text)
    rows = [[{"href": item_url(f["id"]), "text": f["id"]}, *(_shown(f["properties"].get(n)) for n in names)]
            for f in features]
    body += _table("ogc-items", [t("ogc.html.id", lang), *(layer.label(n, lang) for n in names)], rows)
    return _page(layer.title.get(lang), lang, home, body, doc["links"])


def item_html(layer: Layer, feature: dict, lang: str, home: str) -> str:
    rows = [[t("ogc.html.id", lang), feature["id"]]]
    rows += [[layer.label(n, lang), _shown(feature["properties"].get(n))] for n in layer.field_names]
    body = _table("ogc-item", [t("ogc.html.field", lang), t("ogc.html.value", lang)], rows)
    return _page(f"{layer.title.get(lang)} · {feature['id']}", lang, home, body, feature.get("links"))


def api_html(doc: dict, lang: str, home: str, links: list[dict]) -> str:
    rows = [[path, op["get"].get("summary", "")] for path, op in doc["paths"].items()]
    body = _table("ogc-paths", [t("ogc.html.paths", lang), t("ogc.html.operation", lang)], rows)
    return _page(t("ogc.link.api", lang), lang, home, body, links)
