"""The casework queries the CLI and the web pages use (docs/casework.md).

Writes run in one transaction as the signed-in user (gisapp.db.context.acting_as): row-level
security decides what may be written, the audit records who and why, and the database's
refusals come back as gisapp.queries.edit_errors' errors, with gisapp.i18n message keys
(``case.err.*``, ``edit.err.*``) a page or the CLI renders in the reader's language.

- open: :func:`open_case`, :func:`set_pathway`
- steps: :func:`record_step` (routes a fee decision and an extension), :func:`undo_step`
- money: :func:`decide_fee`, :func:`decide_money`, :func:`record_payment`
- extension: :func:`record_extension`
- close: :func:`close_case`
- read: :func:`next_steps` (what is due and overdue), :func:`list_cases`, :func:`case_timeline`
"""

from gisapp.casework.queries.closing import close_case
from gisapp.casework.queries.common import StepResult
from gisapp.casework.queries.extension import record_extension
from gisapp.casework.queries.money import decide_fee, decide_money, record_payment
from gisapp.casework.queries.opening import open_case, set_pathway
from gisapp.casework.queries.reading import (
    CaseSummary,
    CaseTimeline,
    NextStep,
    case_timeline,
    list_cases,
    next_steps,
)
from gisapp.casework.queries.steps import record_step, undo_step

__all__ = [
    "CaseSummary", "CaseTimeline", "NextStep", "StepResult", "case_timeline", "close_case", "decide_fee",
    "decide_money", "list_cases", "next_steps", "open_case", "record_extension", "record_payment", "record_step",
    "set_pathway", "undo_step",
]
