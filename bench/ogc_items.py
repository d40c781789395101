"""OGC API – Features items at city scale: 1,000-item pages through ``/ogc`` against the raw SQL of
the same query, in the same run, on the 1M-parcel database ``gisapp_bench``.

    .venv/bin/python bench/ogc_items.py [--db gisapp_bench] [--samples 30] [--no-record]

The app is served as deployed (``gisapp serve``, waitress, a process of its own, as in
bench/viewport_bench.py) and asked over one kept-alive connection with a signed-in session for
``/ogc/collections/parcels/items?limit=1000`` in four shapes: pages at random offsets of the whole
layer, pages of a bbox around random parcels (CRS84), the same in EPSG:4549 (every geometry
transformed), and a property filter (``status=...``). The raw SQL is the statement the route runs
(``gisapp.queries.ogc_items.items_statement``: the page's features, how many, whether more follow) executed in
this process on a connection of the same pool settings, followed by the count
(``count_statement``) whenever the route needs one (a page that is not the last); the two
alternate so neither gains from the other's warm cache. Both answers must agree.

Goal (issue 21): route / raw SQL <= 1.5x for a 1,000-item page. Recorded with its command unless
--no-record (bench/record.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics

from record import record
from viewport_bench import _timed, ms, pct, serve

PAGE = 1000


def shapes(engine, samples: int, seed: int) -> list[tuple[str, list[dict]]]:
    """The requests of each shape as query parameters, drawn at random (fixed seed)."""
    import sqlalchemy as sa

    rng = random.Random(seed)
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar_one()
        status = conn.execute(sa.text("SELECT status FROM land.parcels GROUP BY 1 ORDER BY count(*) DESC "
                                      "OFFSET 2 LIMIT 1")).scalar_one()
        points = conn.execute(sa.text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                                      "FROM land.parcels TABLESAMPLE SYSTEM (1) REPEATABLE (:s) LIMIT :n"),
                              {"s": seed % 1000, "n": samples}).all()
    boxes = [f"{x - 0.01:.5f},{y - 0.008:.5f},{x + 0.01:.5f},{y + 0.008:.5f}" for x, y in points]
    return [
        ("whole layer, random offset", [{"offset": rng.randrange(0, max(1, total - PAGE))} for _ in range(samples)]),
        ("bbox 0.02° x 0.016°", [{"bbox": b} for b in boxes]),
        ("bbox, crs=EPSG:4549", [{"bbox": b, "crs": "http://www.opengis.net/def/crs/EPSG/0/4549"} for b in boxes]),
        (f"status={status}, random offset",
         [{"status": status, "offset": rng.randrange(0, 20 * PAGE)} for _ in range(samples)]),
    ]


def raw_request(layer, params: dict):
    """The ItemsRequest the route makes of ``params`` (parsed by the same functions)."""
    from gisapp.queries import ogc_items
    from gisapp.queries.ogc_crs import parse_bbox, parse_crs

    return ogc_items.ItemsRequest(crs=parse_crs(params.get("crs")), bbox=parse_bbox(params.get("bbox"), parse_crs(None)),
                                  limit=PAGE, offset=int(params.get("offset", 0)),
                                  filters={k: v for k, v in params.items() if k == "status"})


def time_shape(app_engine, client, base: str, requests: list[dict]) -> dict:
    from urllib.parse import urlencode

    from gisapp.catalog.registry import get_layer
    from gisapp.queries.ogc_items import count_statement, field_types, items_statement, user_read_engine

    layer = get_layer("parcels")
    types = field_types(app_engine, layer)
    route, raw, returned, sizes = [], [], [], []
    with user_read_engine(app_engine).connect() as conn:
        for k, params in enumerate(requests):
            req = raw_request(layer, params)
            sql, values = items_statement(layer, req, types)
            count_sql, count_values = count_statement(layer, req, types)
            url = f"{base}/ogc/collections/parcels/items?{urlencode({'limit': PAGE, **params})}"

            def run_raw():
                with conn.begin():
                    body, returned, more = conn.execute(sql, values).one()
                    matched = conn.execute(count_sql, count_values).scalar_one() if more or req.offset else returned
                    return body, matched, returned

            if k % 2:
                row = _timed(raw, run_raw)
                resp = _timed(route, client.get, url)
            else:
                resp = _timed(route, client.get, url)
                row = _timed(raw, run_raw)
            assert resp.status_code == 200, resp.text[:300]
            doc = json.loads(resp.content)
            assert doc["numberReturned"] == row[2] and doc.get("numberMatched", row[1]) == row[1], \
                "route and raw SQL disagree"
            returned.append(row[2])
            sizes.append(len(resp.content))
    return {"route": route, "raw": raw, "returned": returned, "bytes": sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="gisapp_bench")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    os.environ["GISAPP_DB_NAME"] = args.db
    import sqlalchemy as sa

    from gisapp.db.engine import get_engine, owner_engine
    from gisapp.db.migrate import migrate
    from gisapp.settings import get_settings

    get_settings.cache_clear()
    engine = owner_engine()
    migrate(engine, get_settings().sql_dir)
    with engine.connect() as conn:
        n_parcels = conn.execute(sa.text("SELECT count(*) FROM land.parcels")).scalar()
    load_before = os.getloadavg()[0]
    plan = shapes(engine, args.samples, args.seed)
    server, base, client = serve(engine)
    try:
        client.get(f"{base}/ogc/collections/parcels/items?limit=10")  # warm-up: the column types, the pools
        results = [(name, time_shape(get_engine(), client, base, requests)) for name, requests in plan]
    finally:
        server.stop()
    load_after = os.getloadavg()[0]

    lines = [f"{n_parcels:,} parcels; {args.samples} requests per shape, limit={PAGE}; load average "
             f"{load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores", "",
             "| request | features (median) | route median | route p95 | raw SQL median | raw SQL p95 | "
             "ratio (median) | ratio (p95) | bytes (median) |", "|---|---|---|---|---|---|---|---|---|"]
    for name, v in results:
        lines.append(f"| {name} | {statistics.median(v['returned']):,.0f} | {ms(v['route'])} ms | "
                     f"{pct(v['route'], 0.95) * 1000:.1f} ms | {ms(v['raw'])} ms | {pct(v['raw'], 0.95) * 1000:.1f} ms | "
                     f"{statistics.median(v['route']) / statistics.median(v['raw']):.2f}x | "
                     f"{pct(v['route'], 0.95) / pct(v['raw'], 0.95):.2f}x | {statistics.median(v['bytes']):,.0f} |")
    ratios = [f"{statistics.median(v['route']) / statistics.median(v['raw']):.2f}x" for _, v in results]
    lines += ["", f"- route / raw SQL (median): {', '.join(f'{n} {r}' for (n, _), r in zip(results, ratios))} "
                  "(goal <= 1.5x)"]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        whole = results[0][1]
        figure = f"1,000-item page (whole layer) median {ms(whole['route'])} ms, p95 {pct(whole['route'], 0.95) * 1000:.0f} ms"
        command = ".venv/bin/python bench/ogc_items.py" + (f" --db {args.db}" if args.db != "gisapp_bench" else "") \
            + (f" --samples {args.samples}" if args.samples != 30 else "")
        details = (f"{n_parcels:,} synthetic parcels (`{args.db}`); route = HTTP request to `gisapp serve` "
                   "(waitress, a process of its own, signed-in session, one kept-alive connection); raw = the "
                   "route's statement in the benchmark's process on a connection of the same pool settings; "
                   "the two alternate.\n\n" + report)
        record("ogc_items", figure, "route / raw SQL (median): " + " / ".join(ratios),
               f"load avg {load_before:.1f} -> {load_after:.1f}", command, details)


if __name__ == "__main__":
    main()
