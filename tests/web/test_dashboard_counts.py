"""The dashboards count what the register and the findings say, in one way; every category is
drawn in its meaning's colour; the quota chart shows every year."""

from __future__ import annotations

import sqlalchemy as sa

from gisapp.i18n import t
from gisapp.queries import dashboard


def test_parcels_marked_idle_count_as_confirmed_never_as_suspected(engine, findings_source):
    frame = dashboard.dataset(engine, "idle_land")
    with engine.connect() as conn:
        idle = dict(conn.execute(sa.text(
            "SELECT z.code, count(*) FROM land.parcels p JOIN land.zones z ON z.id = p.zone_id "
            "WHERE p.status = 'idle' GROUP BY z.code")).all())
        suspected_but_idle = conn.execute(sa.text(
            "SELECT count(*) FROM rules.current_findings f JOIN land.parcels p ON p.id = f.parcel_id "
            "WHERE f.rule = 'idle_land' AND f.outcome IN ('idle_not_started', 'idle_stalled') "
            "AND p.status = 'idle'")).scalar()
    assert idle and suspected_but_idle > 0, "the demo has parcels marked idle that the rule finds idle"
    confirmed = frame[frame["outcome"] == "idle_confirmed"].set_index("zone_code")
    for zone, n in idle.items():
        assert confirmed.loc[zone, "parcels"] >= n and confirmed.loc[zone, "confirmed"] == confirmed.loc[zone, "parcels"]
    suspected = frame[frame["outcome"].isin(["idle_not_started", "idle_stalled"])]
    assert (suspected["confirmed"] == 0).all()
    # the same register as the map's idle layer
    with engine.connect() as conn:
        layer = dict(conn.execute(sa.text("SELECT idle_class, count(*) FROM layers.idle_land GROUP BY 1")).all())
    assert confirmed["parcels"].sum() == layer["confirmed"]
    assert suspected["parcels"].sum() == layer["suspected_not_started"] + layer["suspected_stalled"]
    # exempt land and land no longer idle whose decided fee is due: the layer's classes of their own
    for outcome, layer_class in (("exempt", "exempt"), ("idle_fee_due", "fee_due")):
        assert layer.get(layer_class, 0) > 0, f"the demo has {outcome} land"
        assert frame.loc[frame["outcome"] == outcome, "parcels"].sum() == layer[layer_class], outcome


def test_coded_columns_come_with_their_labels(engine, findings_source):
    mix = dashboard.dataset(engine, "land_use_mix", "jiading")
    assert set(mix.loc[mix["category"] == "industrial", "category_zh"]) == {t("category.industrial", "zh")}
    quota = dashboard.dataset(engine, "quota_use")
    assert set(quota.loc[quota["unit"] == "t/yr", "unit_zh"]) == {"吨/年"}
    evaluation = dashboard.dataset(engine, "zone_evaluation")
    assert "2024_revised" not in set(evaluation["method_zh"]) | set(evaluation["method_en"])
    status = dashboard.dataset(engine, "status_breakdown")
    assert set(status.loc[status["status"] == "granted_unbuilt", "status_zh"]) == {"供而未用"}


def _hue(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))


def _reddish(hex_colour: str) -> bool:
    r, g, b = _hue(hex_colour)
    return r > 150 and r > g + 60 and r > b + 60


def test_every_dashboard_category_has_its_meaning_colour(client, engine):
    from gisapp.web.pages import dashboard as page  # registered by the app the client made

    frames = dashboard.datasets(engine)
    outcomes = {o for name in ("idle_land", "per_mu", "grants_review", "zone_evaluation")
                for o in frames[name]["outcome"]}
    assert not [o for o in outcomes if page.color(f"outcome.{o}") is None]
    assert not [s for s in frames["status_breakdown"]["status"] if page.color(f"status.{s}") is None]
    # exemption and class B are not alarms; exit risk and confirmed idle land are
    assert not _reddish(page.color("outcome.exempt")) and not _reddish(page.color("outcome.class_b"))
    assert _reddish(page.color("outcome.exit_risk")) and _reddish(page.color("status.idle"))
    # the map's colours where a layer declares the value
    assert page.color("status.in_production") == "#3182bd"


def test_the_quota_chart_shows_every_year(client, engine):
    from gisapp.web.pages import dashboard as page

    frames = dashboard.datasets(engine)
    years = sorted({int(y) for y in frames["quota_use"]["year"]})
    assert len(years) > 1
    figure = page._figures(frames, "zh")["quota_use"]
    shown = {x for trace in figure["data"] for x in trace["x"]}
    for year in years:
        assert any(x.endswith(t("dash.quota_years", "zh", year=year)) for x in shown), year
