"""gisapp.db.binary_copy: an Arrow table COPYed binary arrives value for value, or not at all."""

import datetime as dt
import decimal

import pyarrow as pa
import pytest
import shapely
import sqlalchemy as sa

from gisapp.db.binary_copy import copy_arrow

HOSTILE = ["plain", "quote ' and \" and \\", "tab\tnew\nline\r", "\\N", "中文，全角；", "", "Robert'); DROP TABLE x;--"]


def _table(conn) -> None:
    conn.execute(sa.text(
        "CREATE TEMP TABLE copied (i integer, b bigint, d date, t boolean, s text, j json, f double precision, "
        "n numeric(12, 2), g geometry(MultiPolygon, 4490)) ON COMMIT DROP"))


def test_every_type_and_null_round_trips(engine):
    square = shapely.MultiPolygon([shapely.box(121.5, 31.2, 121.501, 31.201)])
    n = len(HOSTILE)
    data = pa.table({
        "i": pa.array([1, None, -7, 2**31 - 1, 0, 5, 6], pa.int32()),
        "b": pa.array([2**40, 1, None, -1, 0, 5, 6], pa.int64()),
        "d": pa.array([dt.date(2024, 2, 29), None, dt.date(1999, 12, 31), dt.date(2026, 6, 30)] * 2,
                      pa.date32()).slice(0, n),
        "t": pa.array([True, False, None, True, False, True, False], pa.bool_()),
        "s": pa.array(HOSTILE, pa.string()),
        "j": pa.array(['{"k": "' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
                       .replace("\n", "\\n").replace("\r", "\\r") + '"}' for v in HOSTILE], pa.string()),
        "f": pa.array([0.1, None, -1e300, 2.5, 0.0, 1 / 3, 7.0], pa.float64()),
        "n": pa.array([decimal.Decimal("1234.56"), None, decimal.Decimal("-0.01")] + [decimal.Decimal("1.00")] * 4,
                      pa.decimal128(12, 2)),
        "g": pa.array([shapely.to_wkb(square)] + [None] * (n - 1), pa.binary()),
    })
    with engine.begin() as conn:
        _table(conn)
        assert copy_arrow(conn, "copied", data, batch_rows=3) == n  # several batches
        rows = conn.execute(sa.text(
            "SELECT i, b, d, t, s, j->>'k', f, n, ST_SRID(g), ST_AsBinary(g) FROM copied")).all()
    assert len(rows) == n
    for k, row in enumerate(rows):
        assert row[0] == data["i"][k].as_py()
        assert row[1] == data["b"][k].as_py()
        assert row[2] == data["d"][k].as_py()
        assert row[3] == data["t"][k].as_py()
        assert row[4] == HOSTILE[k]
        assert row[5] == HOSTILE[k]
        assert row[6] == data["f"][k].as_py()
        assert row[7] == data["n"][k].as_py()
    assert rows[0][8] == 4490 and shapely.from_wkb(bytes(rows[0][9])).equals_exact(square, tolerance=0)
    assert all(r[8] is None for r in rows[1:])


def test_a_type_that_does_not_match_the_column_writes_nothing(engine):
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE TEMP TABLE kept (i integer)"))  # lives as long as the session
        conn.execute(sa.text("INSERT INTO kept VALUES (42)"))
        conn.commit()
        # int64 is bigint's binary form, not integer's: the server refuses the whole COPY, and
        # the rows of the batches before the bad value are not written either
        with pytest.raises(Exception, match="binary|format"):
            copy_arrow(conn, "kept", pa.table({"i": pa.array([1, 2, 3], pa.int64())}), batch_rows=1)
        conn.rollback()
        assert conn.execute(sa.text("SELECT array_agg(i) FROM kept")).scalar() == [42]
        conn.execute(sa.text("DROP TABLE kept"))
        conn.commit()


def test_an_empty_table_writes_nothing(engine):
    with engine.begin() as conn:
        _table(conn)
        assert copy_arrow(conn, "copied", pa.table({"i": pa.array([], pa.int32())})) == 0
        assert conn.execute(sa.text("SELECT count(*) FROM copied")).scalar() == 0
