"""The mixed-use pilot badge (issue #18): a parcel in an approved mixed-use pilot
(land.mixed_use_pilots, docs/policy.md §5.4) says so at the top of its page and of the map's
detail panel, with the approval reference and date and the floor-area shares of its uses."""

from __future__ import annotations

from dash import html

from gisapp.i18n import t


def shares_text(components: list[dict], lang: str) -> str:
    """``"1001 工业用地 60%、0902 商务金融用地 40%"``: the uses by share, as the record lists them."""
    name = "name_zh" if lang == "zh" else "name_en"
    parts = [f"{c['land_use_code']} {c.get(name) or ''} {float(c['floor_share_pct']):g}%".replace("  ", " ")
             for c in components]
    return ("、" if lang == "zh" else ", ").join(parts) or t("pilot.no_shares", lang)


def pilot_badge(record: dict, lang: str, prefix: str = "parcel") -> html.Div:
    """The badge of the parcel's pilot (``record["pilot"]``, one row; ``record["mixed_use"]``, the
    shares), its elements' ids starting with ``prefix`` (``parcel``: the page; ``map-detail``)."""
    pilot = record["pilot"][0]
    approved = pilot["approved_on"]
    return html.Div(
        [
            html.Span(t("pilot.badge", lang), className="pilot-badge-label"),
            html.Span(t("pilot.approval", lang, ref=pilot.get("pilot_ref") or t("pilot.no_ref", lang),
                        on=str(approved)[:10] if approved else "—"), id=f"{prefix}-pilot-ref"),
            html.Span(t("pilot.shares", lang, shares=shares_text(record.get("mixed_use") or [], lang)),
                      id=f"{prefix}-pilot-shares"),
        ],
        id=f"{prefix}-pilot-badge",
        className="pilot-badge",
        role="note",
    )
