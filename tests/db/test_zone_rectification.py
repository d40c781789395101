"""Zone rectification (issue #20; the 2021 opinions 3.5), from the published national results
only: hand-computed cases at each edge of the three flags (below the eastern average; not
rectified within two years; set up five full years, class C nationally and regionally and in the
national bottom five two years running), the parameters that move them, the import and who may
record results, and the cases the flags open through the casework core."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gisapp.db.context import Actor
from gisapp.errors import InputError
from gisapp.queries.edit_errors import EditRefused
from gisapp.revitalization.rectification import flags, import_results, open_due_cases, record_result
from gisapp.rules.overrides import set_param

pytestmark = pytest.mark.db

D = dt.date
ADMIN = Actor("zr.admin", "bureau_admin", ())
AS_OF = D(2026, 6, 30)
COUNT = 170  # zones ranked nationally


def _exec(eng, sql: str, **values):
    with eng.begin() as conn:
        return conn.execute(sa.text(sql), values)


@pytest.fixture(scope="module")
def eng(isolated_engine):
    """The isolated demo database with no national result and no zone case: each test records its own."""
    _exec(isolated_engine, "DELETE FROM land.cases WHERE kind = 'zone_rectification'")
    _exec(isolated_engine, "DELETE FROM land.zone_national_results")
    yield isolated_engine


@pytest.fixture
def zones(eng):
    """Three zones whose set-up dates the tests choose; their results are removed afterwards."""
    codes = ("songjiang", "fengxian", "caohejing")
    before = {c: _exec(eng, "SELECT approved_on FROM land.zones WHERE code = :c", c=c).scalar() for c in codes}
    yield codes
    _exec(eng, "DELETE FROM land.zone_national_results")
    _exec(eng, "DELETE FROM land.cases WHERE kind = 'zone_rectification'")
    _exec(eng, "DELETE FROM rules.parameter_overrides WHERE rule IN ('zone_rectification', 'casework')")
    for code, on in before.items():
        _exec(eng, "UPDATE land.zones SET approved_on = :d WHERE code = :c", d=on, c=code)


def _result(eng, zone: str, year: int, *, below: bool, national: str = "B", regional: str | None = "B",
            rank: int | None = 60, count: int | None = COUNT) -> None:
    record_result(eng, ADMIN, {"zone": zone, "year": year, "national_class": national, "regional_class": regional,
                               "national_rank": rank, "national_count": count if rank else None,
                               "below_region_average": below, "source": "测试：手工构造的评估结果"})


def _flags(eng, zone: str, as_of: dt.date = AS_OF) -> dict:
    frame = flags(eng, as_of)
    rows = frame[frame["zone_code"] == zone]
    assert len(rows) == 1, zone
    return rows.iloc[0].to_dict()


def _set_up(eng, zone: str, on: dt.date) -> None:
    _exec(eng, "UPDATE land.zones SET approved_on = :d WHERE code = :c", d=on, c=zone)


# -- below the eastern-region average: rectification ------------------------------------------------


def test_below_the_average_in_the_latest_year_calls_for_rectification_only(eng, zones):
    a, b, _ = zones
    _result(eng, a, 2024, below=False)
    _result(eng, a, 2025, below=True)
    _result(eng, b, 2024, below=True)
    _result(eng, b, 2025, below=False)  # rose to the average: rectified
    fa, fb = _flags(eng, a), _flags(eng, b)
    assert (fa["year"], fa["below_years"], fa["rectification"], fa["interview"], fa["exit_due"]) == (
        2025, 1, True, False, False)
    assert (fb["below_years"], fb["rectification"], fb["interview"]) == (0, False, False)
    # the flags of a day read the years evaluated up to that day's year
    assert _flags(eng, b, D(2024, 12, 31))["rectification"] is True


def test_a_score_at_the_average_is_not_below_it(eng, zones):
    a = zones[0]
    with pytest.raises(InputError):  # the database refuses a result that contradicts its numbers
        record_result(eng, ADMIN, {"zone": a, "year": 2025, "national_class": "B", "below_region_average": True,
                                   "score": "82.0", "region_average": "82.0", "source": "测试"})
    record_result(eng, ADMIN, {"zone": a, "year": 2025, "national_class": "B", "below_region_average": False,
                               "score": "82.0", "region_average": "82.0", "source": "测试"})
    assert _flags(eng, a)["rectification"] is False


# -- not rectified within two years: interview ----------------------------------------------------


def test_three_years_below_the_average_call_for_an_interview_two_do_not(eng, zones):
    a, b, c = zones
    for year in (2023, 2024, 2025):
        _result(eng, a, year, below=True)
    for year in (2024, 2025):
        _result(eng, b, year, below=True)
    _result(eng, b, 2023, below=False)
    # below, rectified, below again: the run starts anew
    _result(eng, c, 2023, below=True)
    _result(eng, c, 2024, below=False)
    _result(eng, c, 2025, below=True)
    assert (_flags(eng, a)["below_years"], _flags(eng, a)["interview"]) == (3, True)
    assert (_flags(eng, b)["below_years"], _flags(eng, b)["interview"]) == (2, False)
    assert (_flags(eng, c)["below_years"], _flags(eng, c)["interview"]) == (1, False)


def test_a_year_without_a_published_result_breaks_the_run(eng, zones):
    a = zones[0]
    _result(eng, a, 2022, below=True)
    _result(eng, a, 2023, below=True)
    _result(eng, a, 2025, below=True)  # 2024 not recorded
    assert (_flags(eng, a)["below_years"], _flags(eng, a)["interview"]) == (1, False)


def test_the_years_to_rectify_are_the_casework_parameter(eng, zones):
    a = zones[0]
    _result(eng, a, 2024, below=True)
    _result(eng, a, 2025, below=True)
    assert _flags(eng, a)["interview"] is False
    set_param(eng, "casework", "zr_rectification_years", 1, source="测试：一年整改期", effective_from=D(2026, 1, 1))
    assert _flags(eng, a)["interview"] is True
    assert _flags(eng, a, D(2025, 12, 31))["interview"] is False, "not in force before its date"


# -- exit: five full years, class C nationally and regionally, national bottom five, two years ---------


def _exit_years(eng, zone: str, *, ranks=(COUNT - 1, COUNT), regional=("C", "C"), national=("C", "C")) -> None:
    for year, rank, reg, nat in zip((2024, 2025), ranks, regional, national):
        _result(eng, zone, year, below=True, national=nat, regional=reg, rank=rank)


def test_five_full_years_since_set_up_count_from_the_anniversary(eng, zones):
    a, b, _ = zones
    _exit_years(eng, a)
    _exit_years(eng, b)
    _set_up(eng, a, D(2021, 6, 30))  # five full years on 2026-06-30
    _set_up(eng, b, D(2021, 7, 1))   # one day short
    fa, fb = _flags(eng, a), _flags(eng, b)
    assert (fa["set_up_full_years"], fa["exit_years"], fa["exit_due"]) == (True, 2, True)
    assert (fb["set_up_full_years"], fb["exit_years"], fb["exit_due"]) == (False, 2, False)
    assert _flags(eng, a, D(2026, 6, 29))["exit_due"] is False
    assert _flags(eng, b, D(2026, 7, 1))["exit_due"] is True
    _set_up(eng, a, None)  # a zone whose set-up date is unknown is not said to be due
    assert _flags(eng, a)["exit_due"] is False


def test_the_national_bottom_five_are_the_last_five_places(eng, zones):
    a, b, _ = zones
    for zone in (a, b):
        _set_up(eng, zone, D(2015, 1, 1))
    _exit_years(eng, a, ranks=(COUNT - 4, COUNT - 4))  # 166th of 170: the bottom five
    _exit_years(eng, b, ranks=(COUNT - 4, COUNT - 5))  # 165th of 170 in 2025: sixth from the bottom
    assert _flags(eng, a)["exit_due"] is True
    fb = _flags(eng, b)
    assert (fb["exit_years"], fb["exit_due"]) == (0, False)
    set_param(eng, "zone_rectification", "exit_bottom_n", 6, source="测试：后6位", effective_from=D(2026, 1, 1))
    assert _flags(eng, b)["exit_due"] is True


def test_exit_needs_class_c_nationally_and_regionally_in_each_of_two_years(eng, zones):
    a, b, c = zones
    for zone in zones:
        _set_up(eng, zone, D(2015, 1, 1))
    _exit_years(eng, a, regional=("C", "B"))          # regionally B in 2025
    _exit_years(eng, b, national=("B", "C"))          # nationally B in 2024
    _result(eng, c, 2025, below=True, national="C", regional="C", rank=COUNT)  # one year only
    assert [_flags(eng, z)["exit_due"] for z in zones] == [False, False, False]
    assert _flags(eng, c)["exit_years"] == 1
    set_param(eng, "zone_rectification", "exit_years", 1, source="测试：一年", effective_from=D(2026, 1, 1))
    assert _flags(eng, c)["exit_due"] is True


# -- recording results, and the cases they open ---------------------------------------------------


def test_a_zone_editor_may_not_record_a_national_result(eng, zones):
    zone_id = _exec(eng, "SELECT id FROM land.zones WHERE code = :c", c=zones[0]).scalar()
    editor = Actor("zr.editor", "zone_editor", (zone_id,))
    with pytest.raises(EditRefused):
        record_result(eng, editor, {"zone": zones[0], "year": 2025, "national_class": "A",
                                    "below_region_average": "false", "source": "测试"})
    assert _exec(eng, "SELECT count(*) FROM land.zone_national_results").scalar() == 0


def test_an_import_is_all_or_nothing_and_names_the_line(eng, zones, tmp_path):
    a, b, _ = zones
    good = tmp_path / "results.csv"
    good.write_text("zone,year,national_class,regional_class,national_rank,national_count,below_region_average\n"
                    f"{a},2025,C,C,168,170,是\n{b},2025,B类,B,60,170,否\n", encoding="utf-8")
    assert import_results(eng, ADMIN, good, source="测试：导入文件") == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("zone,year,national_class,below_region_average,source\n"
                   f"{a},2024,C,true,测试\n{b},2024,D,false,测试\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3: national_class must be A, B or C"):
        import_results(eng, ADMIN, bad)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("zone,year,national_class,below_region_average,source\nnowhere,2024,C,true,测试\n",
                       encoding="utf-8")
    with pytest.raises(InputError, match="there is no zone 'nowhere'"):
        import_results(eng, ADMIN, unknown)
    years = _exec(eng, "SELECT DISTINCT year FROM land.zone_national_results").scalars().all()
    assert years == [2025]
    recorded_by = _exec(eng, "SELECT DISTINCT app_user FROM audit.change_log WHERE table_name = "
                             "'zone_national_results' AND action = 'INSERT' AND new_row ->> 'source' = '测试：导入文件'"
                         ).scalars().all()
    assert recorded_by == ["zr.admin"]


def test_the_flags_open_a_case_once_through_the_casework_core(eng, zones):
    a, b, c = zones
    _set_up(eng, a, D(2015, 1, 1))
    _exit_years(eng, a)                       # exit
    _result(eng, b, 2025, below=True)         # rectification
    _result(eng, c, 2025, below=False)        # nothing
    opened = open_due_cases(eng, ADMIN, AS_OF, opened_on=D(2026, 5, 1))
    assert sorted((o.zone_code, o.pathway) for o in opened) == sorted([(a, "zr_exit"), (b, "zr_rectification")])
    cases = _exec(eng, "SELECT c.code, c.pathway, c.opened_via, c.opened_by, c.opened_on FROM land.cases c "
                       "JOIN land.zones z ON z.id = c.zone_id WHERE c.kind = 'zone_rectification' ORDER BY z.code").all()
    assert {(r.opened_via, r.opened_by, r.opened_on) for r in cases} == {("hand", "zr.admin", D(2026, 5, 1))}
    assert open_due_cases(eng, ADMIN, AS_OF) == [], "an open case answers the result"
    # a case closed after the year evaluated ended answers it too; a result of a later year needs a new one
    code = next(r.code for r in cases if r.pathway == "zr_rectification")
    _exec(eng, "UPDATE land.cases SET outcome = 'finding_withdrawn', closed_on = '2026-05-20' WHERE code = :c", c=code)
    assert open_due_cases(eng, ADMIN, AS_OF) == []
    _result(eng, b, 2026, below=True)
    again = open_due_cases(eng, ADMIN, D(2026, 12, 31), opened_on=D(2026, 6, 1))
    assert [(o.zone_code, o.year) for o in again] == [(b, 2026)]
