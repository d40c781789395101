"""Edit forms of the parcel page, declared once: their fields, how each is drawn, which edit of
``gisapp.queries.edits`` saves them. Component ids are ``parcel-<form>-<field>``; each field has
a ``parcel-<form>-<field>-error`` element for its message and each form a ``parcel-<form>-msg``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from dash import dcc, html

from gisapp.i18n import t
from gisapp.queries import edits


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "text"  # text | number | date | textarea | radio | select
    label: str | None = None  # i18n key; default field.<name>
    today: bool = False  # a date field that starts at today's date (when the thing happened)

    def label_key(self) -> str:
        return self.label or f"field.{self.name}"


@dataclass(frozen=True)
class FormSpec:
    id: str  # the edit's id in gisapp.queries.edits.EDIT_KINDS (also the JSON API's)
    title: str  # i18n key
    fields: tuple[Field, ...]
    submit: str = "edit.save"

    @property
    def save(self) -> Callable:
        return edits.EDIT_KINDS[self.id].save

    @property
    def per_parcel(self) -> bool:
        """False: the edit takes a record id from the context (finding review)."""
        return edits.EDIT_KINDS[self.id].subject == "parcel"


FORMS: dict[str, FormSpec] = {
    spec.id: spec
    for spec in (
        FormSpec(
            "status",
            "edit.change_status",
            (
                Field("to_status", "radio"),
                Field("changed_on", "date", today=True),
                Field("reason", "textarea"),
                Field("note", "textarea"),
            ),
            submit="edit.change_status",
        ),
        FormSpec(
            "review",
            "parcel.findings",
            (
                Field("finding_id", "select", "parcel.findings"),
                Field("decision", "radio"),
                Field("reason", "textarea"),
            ),
        ),
        FormSpec(
            "grant-requirements",
            "parcel.grants",
            (
                Field("grant_id", "select", "field.contract_no"),
                Field("indicator", "select"),
                Field("review_stage", "radio"),
                Field("min_value", "number"),
                Field("max_value", "number"),
            ),
        ),
        FormSpec(
            "progress",
            "parcel.progress",
            (
                Field("reported_on", "date", today=True),
                Field("started_on", "date"),
                Field("should_develop_area_m2", "number"),
                Field("developed_area_m2", "number"),
                Field("invested_wan", "number"),
                Field("total_investment_wan", "number"),
                Field("completed_on", "date"),
                Field("accepted_on", "date"),
            ),
        ),
        FormSpec(
            "metrics",
            "parcel.metrics",
            (
                Field("year", "number"),
                Field("grading_category", "radio"),
                Field("revenue_wan", "number"),
                Field("tax_wan", "number"),
                Field("value_added_wan", "number"),
                Field("energy_tce", "number"),
                Field("electricity_kwh", "number"),
                Field("emissions_t", "number"),
                Field("employees", "number"),
                Field("rd_spend_wan", "number"),
            ),
        ),
        FormSpec("mixed-use", "parcel.mixed_use", (Field("components", "textarea"),)),
        FormSpec(
            "green-areas",
            "parcel.green",
            (Field("measured_on", "date", today=True), Field("green_area_m2", "number")),
        ),
        FormSpec(
            "quota-requests",
            "parcel.quota",
            (
                Field("account_id", "select"),
                Field("amount", "number"),
                Field("requested_on", "date", today=True),
                Field("note", "textarea"),
            ),
        ),
        FormSpec(
            "geometry",
            "parcel.geometry",
            (Field("geom", "textarea"), Field("reason", "textarea")),
        ),
    )
}


def field_id(form: str, name: str) -> str:
    return f"parcel-{form}-{name}"


def render_form(
    spec: FormSpec, lang: str, options: dict[str, list] | None = None, values: dict[str, object] | None = None
) -> html.Div:
    """The form's inputs with an empty message slot under each, and its save button."""
    options, values = options or {}, values or {}
    rows = []
    for f in spec.fields:
        fid = field_id(spec.id, f.name)
        value = values.get(f.name)
        if f.kind == "textarea":
            control = dcc.Textarea(
                id=fid,
                value=value or "",
                className="field-input",
                style={"height": "8em" if f.name in ("geom", "components") else "3.5em"},
            )
        elif f.kind == "radio":
            control = dcc.RadioItems(
                inline=True,
                id=fid,
                options=options.get(f.name, []),
                value=value,
                className="field-radio",
                labelClassName="field-radio-label",
            )
        elif f.kind == "select":
            control = dcc.Dropdown(
                id=fid,
                options=options.get(f.name, []),
                value=value,
                clearable=False,
                className="field-select",
            )
        else:
            # plain text even for numbers and dates: what was typed reaches the server, which
            # names the problem (a browser number input would silently drop "abc")
            placeholder = "YYYY-MM-DD" if f.kind == "date" else None
            if f.today and value is None:
                value = dt.date.today().isoformat()
            control = dcc.Input(
                id=fid,
                type="text",
                value=value,
                placeholder=placeholder,
                className="field-input",
                inputMode="decimal" if f.kind == "number" else None,
                debounce=False,
            )
        rows.append(
            html.Div(
                [
                    html.Label(t(f.label_key(), lang), htmlFor=fid),
                    control,
                    html.Div(id=f"{fid}-error", className="field-error", role="alert"),
                ],
                className="form-row",
            )
        )
    rows.append(html.Button(t(spec.submit, lang), id=f"parcel-{spec.id}-save", n_clicks=0, className="save"))
    rows.append(html.Div(id=f"parcel-{spec.id}-msg", className="form-msg", role="status"))
    return html.Div(rows, id=f"parcel-{spec.id}-form", className="edit-form")
