"""Import files from the browser (bureau admins only): upload a file, choose what it holds and its
CRS, validate (dry run) or import; the page shows the validation report. An adapter: it saves the
upload to a temporary folder and calls :func:`gisapp.io.importer.import_file`, which does the work
and writes all or nothing.

Only the ``bureau_admin`` role may use it (403 for everyone else; the sign-in guard answers
anonymous requests), and the import's transaction runs as the database role ``gisapp_web`` with
the admin's context, so row-level security decides what is written, as for any edit. The form
carries the session's token, and the session cookie is SameSite=Lax, so another site cannot post
an import.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from flask import Blueprint, Response, render_template_string, request
from werkzeug.utils import secure_filename

from gisapp.db.engine import get_engine
from gisapp.errors import GisappError
from gisapp.i18n import t
from gisapp.io.importer import import_file
from gisapp.io.readers import SINGLE_FILE_SUFFIXES
from gisapp.io.report import localise, localised_summary, localised_table
from gisapp.web.auth import csrf_ok, csrf_token, current_actor, request_lang
from gisapp.web.components import page_html
from gisapp.web.uploads import no_room, upload_space_message

import_page = Blueprint("import_page", __name__)

ALLOWED_ROLES = {"bureau_admin"}
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
# the reader's own list: the page accepts what the importer can read from one uploaded file
_SUFFIXES = SINGLE_FILE_SUFFIXES

#: the form's words, keys of gisapp.i18n (``import.page.<name>``)
WORDS = ("title", "note", "kind", "file", "crs", "encoding", "layer", "dry_run", "repair", "update_existing",
         "submit", "where", "field", "problem", "severity")
KINDS = ("parcels", "zones", "metrics")
_WHERE = re.compile(r"^(feature|row) (.+?)(?: \(code (.*)\))?$", re.DOTALL)

# Jinja autoescapes every value: a hostile string in a file is shown as text. The header, the
# navigation and the signed-in user's bar are the Dash pages' (gisapp.web.components).
BODY = """\
<h2>{{ x.title }}</h2>
{% if error %}<p id="import-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
{% if allowed %}
<p>{{ x.note }}</p>
<form id="import-form" class="edit-form" method="post" enctype="multipart/form-data" action="/admin/import?lang={{ lang }}">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <div class="form-row"><label for="import-kind">{{ x.kind }}</label>
  <select id="import-kind" name="kind">
    {% for k, label in kinds %}<option value="{{ k }}" {{ 'selected' if k == kind }}>{{ label }}</option>{% endfor %}
  </select></div>
  <div class="form-row"><label for="import-file">{{ x.file }}</label><input id="import-file" type="file" name="file"></div>
  <div class="form-row"><label for="import-crs">{{ x.crs }}</label><input id="import-crs" name="crs" value="{{ crs }}"></div>
  <div class="form-row"><label for="import-encoding">{{ x.encoding }}</label>
  <input id="import-encoding" name="encoding" value="{{ encoding }}"></div>
  <div class="form-row"><label for="import-layer">{{ x.layer }}</label><input id="import-layer" name="layer" value="{{ layer }}"></div>
  <div class="form-row"><label class="field-radio-label"><input type="checkbox" id="import-dry-run" name="dry_run" value="1"
    {{ 'checked' if dry_run }}> {{ x.dry_run }}</label>
  <label class="field-radio-label"><input type="checkbox" id="import-repair" name="repair" value="1"> {{ x.repair }}</label>
  <label class="field-radio-label"><input type="checkbox" id="import-update" name="update_existing" value="1">
    {{ x.update_existing }}</label></div>
  <button id="import-submit" type="submit">{{ x.submit }}</button>
</form>
{% endif %}
{% if summary %}<h3 id="import-summary">{{ summary }}</h3>{% endif %}
{% if rows %}<table id="import-report" class="record-table"><thead><tr><th>{{ x.where }}</th><th>{{ x.field }}</th>
<th>{{ x.problem }}</th><th>{{ x.severity }}</th></tr></thead><tbody>
{% for r in rows %}<tr class="{{ r.severity }}"><td>{{ r.where }}</td><td>{{ r.field }}</td><td>{{ r.problem }}</td>
<td>{{ r.severity_label }}</td></tr>{% endfor %}</tbody></table>{% endif %}
{% if more %}<p id="import-more">{{ more }}</p>{% endif %}
"""


def _page(lang: str, status: int = 200, **values) -> Response:
    values.setdefault("kind", "parcels")
    values.setdefault("crs", "")
    values.setdefault("encoding", "")
    values.setdefault("layer", "")
    values.setdefault("dry_run", True)
    values.setdefault("allowed", True)
    query = {k: v for k, v in request.args.items() if k != "lang"}
    body = render_template_string(
        BODY, lang=lang, x={w: t(f"import.page.{w}", lang) for w in WORDS}, app_title=t("app.title", lang),
        kinds=[(k, t(f"import.page.kind.{k}", lang)) for k in KINDS], csrf=csrf_token(),
        **values)
    body = page_html(lang, "/admin/import", query, t("import.page.title", lang), body, "import")
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _refused(lang: str) -> Response:
    """Only the refusal (and the header): nothing of a form its reader may not use."""
    return _page(lang, 403, error=t("import.page.forbidden", lang), allowed=False)


def _where(text: str, lang: str) -> str:
    """``feature 17 (code WGQ-00017)``, ``row 5`` or ``file`` (gisapp.io.report) in ``lang``."""
    if text == "file":
        return t("import.where.file", lang)
    match = _WHERE.match(text)
    if match is None:
        return text
    kind, ident, code = match.groups()
    return t(f"import.where.{kind}", lang, id=ident) + (t("import.where.code", lang, code=code) if code else "")


def may_import() -> bool:
    """Whether the signed-in user may use the import page (the app's navigation links it for them)."""
    actor = current_actor()
    return actor is not None and actor.role in ALLOWED_ROLES


@import_page.get("/admin/import")
def show():
    lang = request_lang()
    if not may_import():
        return _refused(lang)
    return _page(lang)


@import_page.post("/admin/import")
def submit():
    lang = request_lang()
    if not may_import():
        return _refused(lang)
    if not csrf_ok():
        return _page(lang, 400, error=t("import.page.bad_token", lang))
    if request.content_length and request.content_length > MAX_UPLOAD_BYTES:
        return _page(lang, 413, error=t("import.page.too_big", lang, mb=MAX_UPLOAD_BYTES // 2**20))
    kind = request.form.get("kind", "parcels")
    crs = (request.form.get("crs") or "").strip() or None
    encoding = (request.form.get("encoding") or "").strip()[:40] or None
    layer = (request.form.get("layer") or "").strip()[:200] or None
    dry_run = bool(request.form.get("dry_run"))
    values = {"kind": kind, "crs": crs or "", "dry_run": dry_run, "encoding": encoding or "", "layer": layer or ""}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(lang, 400, error=t("import.page.no_file", lang), **values)
    # keep a readable (possibly Chinese) name for messages; store under a safe one
    shown = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(upload.filename).name)[:120] or "upload"
    suffix = Path(shown).suffix.lower()
    if suffix not in _SUFFIXES:
        return _page(lang, 400, error=t("import.page.bad_type", lang, suffixes=", ".join(sorted(_SUFFIXES))), **values)
    with tempfile.TemporaryDirectory(prefix="gisapp-import-") as tmp:
        path = Path(tmp) / (secure_filename(shown) or f"upload{suffix}")
        if path.suffix.lower() != suffix:
            path = path.with_suffix(suffix)
        try:
            upload.save(path)
        except OSError as exc:
            if not no_room(exc):
                raise
            # the temporary folder is full: say so (not where it is), and let go of the upload's
            # own copy now rather than when the request object is collected
            upload.close()
            return _page(lang, 507, error=upload_space_message(lang), **values)
        actor = current_actor()
        try:
            result = import_file(get_engine(), kind, path, crs=crs, dry_run=dry_run, encoding=encoding, layer=layer,
                                 repair=bool(request.form.get("repair")),
                                 update_existing=bool(request.form.get("update_existing")),
                                 actor=f"web:{actor.username}", display=shown, raise_on_error=False,
                                 acting_for=actor)
        except GisappError as exc:
            # the person knows the file by its name, not by the server's temporary folder
            message = localise(str(exc).replace(str(path), shown).replace(tmp, ""), lang)
            return _page(lang, 400, error=message, **values)
    report = result.report
    rows, left_out = localised_table(report, lang)
    for row in rows:
        row["where"] = _where(row["where"], lang)
    if result.wrote:
        summary = t("import.wrote", lang, file=report.file, inserted=result.inserted, updated=result.updated,
                    import_id=result.import_id)
    else:
        summary = localised_summary(report, lang, wrote=False)
    more = t("import.summary.more", lang, n=left_out) if left_out else ""
    return _page(lang, 200 if report.ok else 422, summary=summary, rows=rows, more=more, **values)
