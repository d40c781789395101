"""COPY an Arrow table into PostgreSQL in the binary format (encoded by pgpq, in Rust).

Why binary: the server then does not parse text. For 1M findings rows the server's side of the
COPY took 10.6 s as CSV and 7.1 s binary (docs/benchmark-runs.md), and encoding is cheaper too.

The Arrow type of each column must be the binary form of its column's type, which the server
checks on every value ("incorrect binary data format" fails the whole COPY: nothing is written):

    integer -> int32        bigint -> int64           date -> date32       boolean -> bool
    text, json -> string    (json's binary form is its text; jsonb's is not)
    double precision -> float64                       numeric -> decimal128
    geometry -> binary (WKB; a column typmod's SRID is given to WKB without one)

Example:
    >>> copy_arrow(conn, "rules.findings", pa.table({"rule": ["idle_land"], ...}))  # doctest: +SKIP
"""

from __future__ import annotations

import pgpq
import pyarrow as pa
from sqlalchemy.engine import Connection

__all__ = ["copy_arrow"]


def copy_arrow(conn: Connection, table: str, data: pa.Table, batch_rows: int = 10_000) -> int:
    """COPY ``data`` into ``table`` (its columns named as ``data``'s) inside ``conn``'s
    transaction; returns the rows written. ``table`` is trusted SQL (the caller's own name).

    Batches of ~10k rows keep each encoded message (a few MB) in memory the allocator reuses:
    100k-row batches of findings (~60 MB each) were fresh pages every time, 160k page faults
    and ~0.5 s of system CPU per million rows (docs/benchmark-runs.md)."""
    if data.num_rows == 0:
        return 0
    if not conn.in_transaction():
        conn.begin()  # as any execute would (SQLAlchemy's autobegin): the COPY is part of it
    encoder = pgpq.ArrowToPostgresBinaryEncoder(data.schema)
    columns = ", ".join(f'"{name}"' for name in data.column_names)
    raw = conn.connection.driver_connection  # psycopg 3, in the caller's transaction
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(encoder.write_header())
        for batch in data.to_batches(max_chunksize=batch_rows):
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())
    return data.num_rows
