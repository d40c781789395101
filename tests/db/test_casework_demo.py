"""The synthetic demo's cases (gisapp/demo/cases.py): every stage is there as of the demo date,
and the data ends as the dataset was built (the extension moved its grant to the built date)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gisapp.casework import queries as q
from gisapp.demo import DEMO_AS_OF
from gisapp.demo.cases import NOTE, extension_parcel

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def cases(engine):
    return q.list_cases(engine, None, state="all", as_of=DEMO_AS_OF)


def test_the_demo_has_cases_at_every_stage(cases):
    kinds = {c.kind for c in cases}
    assert kinds == {"idle_land_disposal", "low_efficiency_exit", "zone_rectification"}
    outcomes = {c.outcome for c in cases}
    assert {"recovered", "swapped", "extended", "fee_collected", None} <= outcomes
    open_cases = [c for c in cases if c.closed_on is None]
    assert {c.steps_done for c in open_cases} >= {0, 1}, "a case not started and one just started"
    overdue = [c for c in open_cases if c.overdue_steps]
    assert len(overdue) >= 2
    assert any(c.money_overdue_wan > 0 for c in open_cases), "an unpaid fee past its day"
    assert any(c.money_due_wan > 0 and c.money_overdue_wan == 0 for c in open_cases), "a fee paid in part, not yet due"


def test_every_demo_case_says_it_is_synthetic(engine, cases):
    with engine.connect() as conn:
        notes = conn.execute(sa.text("SELECT note FROM land.cases")).scalars().all()
    assert len(notes) == len(cases) and all(NOTE in n for n in notes)


def test_the_demo_extension_leaves_the_grant_as_the_dataset_built_it(engine, demo_frames):
    row = extension_parcel(demo_frames)
    with engine.connect() as conn:
        start = conn.execute(sa.text("SELECT agreed_start_on FROM land.land_grants WHERE parcel_id = :p"),
                             {"p": int(row["id"])}).scalar()
        ext = conn.execute(sa.text("SELECT e.previous_start_on, e.new_start_on FROM land.case_extensions e "
                                   "JOIN land.cases c ON c.id = e.case_id WHERE c.parcel_id = :p"),
                           {"p": int(row["id"])}).one()
    assert start == row["agreed_start_on"].date() == ext.new_start_on
    assert ext.previous_start_on < ext.new_start_on


def test_the_demo_cases_are_audited_as_the_demo_loaders(engine):
    with engine.connect() as conn:
        users = set(conn.execute(sa.text(
            "SELECT DISTINCT app_user FROM audit.change_log WHERE table_name LIKE 'case%'")).scalars())
    assert users == {"demo-loader"}
