"""What the casework decided that the idle-land rule reads (issue #20; MLR Order No. 53 arts. 12,
14, 17; docs/policy.md §5.1). Both come from cases on the parcel itself, so the rule stays
parcel-local.

- **Extensions** (art. 12(1), frame ``case_extensions``): a supplementary agreement sets a new
  agreed start date, which the database writes to the grant (sql/security/0900_casework.sql), and
  the idle clock runs from it. Late delivery of the land up to the agreement's day is in the
  negotiated date already: those days of delay are not added to it again
  (:func:`absorbed_delay`); delay after the agreement (land still undelivered when it was signed)
  still moves it. An agreement signed after the as-of date is not known on it: the agreed start
  then is the date that the first such agreement replaced.
- **Fee decisions** (art. 14(1), frame ``idle_fee_decisions``): a fee decided in a case stays due
  until it is paid in full or the decision is revoked on reconsideration or by a court; a later
  start ends the idleness, not the decision. Only what is known on the as-of date counts: a
  decision after it is not there yet, a payment or revocation after it has not happened.

Example:
    >>> import pandas as pd
    >>> due, agreed = pd.Series(pd.to_datetime(["2022-01-01"])), pd.Series(pd.to_datetime(["2022-05-01"]))
    >>> absorbed_delay(np.array([181]), due, agreed).tolist()  # delivered 2022-07-01
    [120]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gisapp.rules import columnar as col

#: the columns of the frames (gisapp.queries.rule_inputs.FRAME_SQL), for callers that have none
EXTENSION_COLUMNS = ("id", "case_id", "case_code", "parcel_id", "grant_id", "agreed_on", "previous_start_on",
                     "new_start_on")
FEE_COLUMNS = ("id", "case_id", "case_code", "parcel_id", "grant_id", "amount_wan", "paid_wan", "decided_on",
               "served_on", "due_on", "paid_on", "revoked_on", "revoked_by")
_DATES = {"agreed_on", "previous_start_on", "new_start_on", "decided_on", "served_on", "due_on", "paid_on",
          "revoked_on"}
#: a payment this close to the amount (万元) is the amount: both are kept to the cent
_CENT = 0.005


def empty(columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with ``columns`` and no rows, typed as the loader types them."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in _DATES else "object") for c in columns})


def frame_or_empty(inputs: dict[str, pd.DataFrame], name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """``inputs[name]``, or no rows when the caller gave none (no case has been decided)."""
    frame = inputs.get(name)
    return empty(columns) if frame is None else frame


def _positions(keys: pd.Series, frame_keys: pd.Series) -> np.ndarray:
    """Per frame row, the position of its key among ``keys`` (unique), -1 where absent."""
    if len(frame_keys) == 0:
        return np.array([], dtype="int64")
    return pd.Index(keys.to_numpy(dtype="int64")).get_indexer(pd.to_numeric(frame_keys).to_numpy(dtype="int64"))


def _nat(n: int) -> np.ndarray:
    return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")


@dataclass(frozen=True)
class Extensions:
    """Per subject: the agreed start date in force on the day, and the extension in force then
    (the latest agreed on or before it; NaT and None where there is none)."""

    agreed_start: pd.Series
    agreed_on: pd.Series
    previous_start: pd.Series
    case_code: np.ndarray

    @property
    def in_force(self) -> np.ndarray:
        return self.agreed_on.notna().to_numpy()


def extensions(grant_ids: pd.Series, agreed_start: pd.Series, frame: pd.DataFrame,
               day: pd.Timestamp) -> Extensions:
    """The extensions of the grants ``grant_ids`` (whose recorded agreed starts are
    ``agreed_start``) as known on ``day``."""
    n = len(grant_ids)
    rows = _positions(grant_ids, frame["grant_id"])
    ex = frame[rows >= 0].assign(row=rows[rows >= 0]).sort_values(["row", "agreed_on", "id"], kind="stable")
    known = (ex["agreed_on"] <= day).to_numpy()
    start = agreed_start.to_numpy(dtype="datetime64[ns]", copy=True)
    later = ex[~known].drop_duplicates("row", keep="first")  # the grant held its replaced date until then
    start[later["row"].to_numpy()] = later["previous_start_on"].to_numpy(dtype="datetime64[ns]")
    now = ex[known].drop_duplicates("row", keep="last")
    at = now["row"].to_numpy()
    agreed_on, previous = _nat(n), _nat(n)
    agreed_on[at] = now["agreed_on"].to_numpy(dtype="datetime64[ns]")
    previous[at] = now["previous_start_on"].to_numpy(dtype="datetime64[ns]")
    code = np.full(n, None, dtype=object)
    code[at] = now["case_code"].to_numpy(dtype=object)
    index = agreed_start.index
    return Extensions(pd.Series(start, index=index), pd.Series(agreed_on, index=index),
                      pd.Series(previous, index=index), code)


def absorbed_delay(late_days: np.ndarray, due_on: pd.Series, agreed_on: pd.Series) -> np.ndarray:
    """Of each grant's ``late_days`` of late delivery, the days up to its extension's agreement
    (``agreed_on``; NaT: none): the negotiated start date accounts for them.

    Due 2022-01-01 and delivered 2022-07-01 (181 days late), agreed 2022-05-01: the 120 days from
    2022-01-02 to 2022-05-01 are absorbed, the 61 after it still move the new agreed start.
    """
    cut = (agreed_on - due_on).dt.days.to_numpy(dtype="float64")
    cut = np.where(np.isnan(cut), 0, np.maximum(cut, 0)).astype("int64")
    return np.minimum(np.asarray(late_days, dtype="int64"), cut)


@dataclass(frozen=True)
class Fees:
    """Per subject, the idle-land fee decision that concerns it most on the day (one still due,
    else one paid in full, else one revoked; the latest decided of these): ``status`` 'due',
    'paid', 'revoked' or None (no decision), the amounts in 万元 (``paid``: what is known paid on
    the day) and the dates (NaT where none)."""

    status: np.ndarray
    case_code: np.ndarray
    amount: np.ndarray
    paid: np.ndarray
    decided_on: pd.Series
    served_on: pd.Series
    due_on: pd.Series
    paid_on: pd.Series
    revoked_on: pd.Series
    revoked_by: np.ndarray

    @property
    def decided(self) -> np.ndarray:
        return pd.notna(self.status)

    @property
    def due(self) -> np.ndarray:
        return self.status == "due"

    @property
    def outstanding(self) -> np.ndarray:
        return np.round(self.amount - self.paid, 2)


def fee_decisions(parcel_ids: pd.Series, grant_ids: pd.Series, frame: pd.DataFrame, day: pd.Timestamp) -> Fees:
    """The idle-land fees decided on or before ``day`` in cases on ``parcel_ids`` about their
    grants ``grant_ids`` (a case naming another grant of the parcel is about another contract)."""
    n = len(parcel_ids)
    rows = _positions(parcel_ids, frame["parcel_id"])
    f = frame[rows >= 0].assign(row=rows[rows >= 0])
    f = f[(f["decided_on"] <= day).to_numpy()]
    case_grant = pd.to_numeric(f["grant_id"]).to_numpy(dtype="float64", na_value=np.nan)
    f = f[np.isnan(case_grant) | (case_grant == grant_ids.to_numpy(dtype="float64")[f["row"].to_numpy()])]
    amount = f["amount_wan"].to_numpy(dtype="float64")
    paid = np.where((f["paid_on"] <= day).to_numpy(), f["paid_wan"].to_numpy(dtype="float64"), 0.0)
    revoked = (f["revoked_on"] <= day).to_numpy()
    status = np.select([revoked, paid >= amount - _CENT], ["revoked", "paid"], "due").astype(object)
    rank = np.select([status == "due", status == "paid"], [0, 1], 2)
    f = (f.assign(status=status, rank=rank, paid_known=paid)
         .sort_values(["row", "rank", "decided_on", "id"], ascending=[True, True, False, False], kind="stable")
         .drop_duplicates("row"))
    at = f["row"].to_numpy()

    def objects(column: str) -> np.ndarray:
        out = np.full(n, None, dtype=object)
        out[at] = f[column].to_numpy(dtype=object)
        return out

    def numbers(column: str) -> np.ndarray:
        out = np.full(n, np.nan)
        out[at] = f[column].to_numpy(dtype="float64")
        return out

    def days(column: str, where: np.ndarray | None = None) -> pd.Series:
        out = _nat(n)
        values = f[column].to_numpy(dtype="datetime64[ns]")
        out[at] = values if where is None else np.where(where, values, np.datetime64("NaT"))
        return pd.Series(out, index=parcel_ids.index)

    known_paid = (f["paid_known"] > 0).to_numpy()
    was_revoked = (f["status"] == "revoked").to_numpy()
    return Fees(objects("status"), objects("case_code"), numbers("amount_wan"), numbers("paid_known"),
                days("decided_on"), days("served_on"), days("due_on"), days("paid_on", known_paid),
                days("revoked_on", was_revoked), np.where(objects("status") == "revoked", objects("revoked_by"), None))


def with_case_keys(evidence: pa.Array, ext: Extensions, start: pd.Series, absorbed: np.ndarray, fees: Fees,
                   day: pd.Timestamp) -> pa.Array:
    """The evidence objects with the keys ``extension`` and ``fee_decision`` added to the rows where
    a case decided something (either may then be null); absent elsewhere, where a million findings
    would otherwise carry 36 bytes of nulls each (a reader takes an absent key as null).

    ``extension``: the case, the day it was agreed, the agreed start it replaced, the one the clock
    runs from, and the days of late delivery the negotiated date accounts for (null when none).
    ``fee_decision``: the case, its status (due, paid, revoked), the amount, the dates, what was
    paid and is outstanding, whether its payment period is over, and the revocation.
    """
    rows = np.flatnonzero(ext.in_force | fees.decided)
    if rows.size == 0:
        return evidence
    overdue = fees.due & (fees.due_on < day).to_numpy()
    tail = col.json_objects({
        "extension": _sparse(rows, ext.in_force, lambda r: col.json_objects({
            "case_code": col.j_str(ext.case_code[r]),
            "agreed_on": col.j_date(ext.agreed_on.iloc[r]),
            "previous_start_on": col.j_date(ext.previous_start.iloc[r]),
            "new_start_on": col.j_date(start.iloc[r]),
            "delivery_delay_days_absorbed": col.j_int(np.where(absorbed[r] > 0, absorbed[r], np.nan)),
        })),
        "fee_decision": _sparse(rows, fees.decided, lambda r: col.json_objects({
            "case_code": col.j_str(fees.case_code[r]),
            "status": col.j_str(fees.status[r]),
            "amount_wan": col.j_float(fees.amount[r], 2),
            "decided_on": col.j_date(fees.decided_on.iloc[r]),
            "served_on": col.j_date(fees.served_on.iloc[r]),
            "due_on": col.j_date(fees.due_on.iloc[r]),
            "paid_wan": col.j_float(fees.paid[r], 2),
            "paid_on": col.j_date(fees.paid_on.iloc[r]),
            "outstanding_wan": col.j_float(np.where(fees.due[r], fees.outstanding[r], 0.0), 2),
            "overdue": col.j_bool(overdue[r]),
            "revoked_on": col.j_date(fees.revoked_on.iloc[r]),
            "revoked_by": col.j_str(fees.revoked_by[r]),
        })),
    })
    # {...} + {"extension":...,"fee_decision":...} -> {...,"extension":...,"fee_decision":...}
    head = pc.utf8_slice_codeunits(evidence.take(pa.array(rows)), 0, -1)
    joined = pc.binary_join_element_wise(head, pc.utf8_slice_codeunits(tail, 1), pa.scalar(","))
    return col.replace_rows(evidence, rows, joined)


def _sparse(rows: np.ndarray, present: np.ndarray, objects) -> pa.Array:
    """Per row of ``rows``: JSON null, or where ``present`` the object ``objects(those rows)`` builds."""
    out = pc.fill_null(pa.nulls(len(rows), pa.string()), "null")
    mine = np.flatnonzero(present[rows])
    return out if mine.size == 0 else col.replace_rows(out, mine, objects(rows[mine]))
