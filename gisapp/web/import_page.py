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
from gisapp.web.uploads import no_room, upload_space_message

import_page = Blueprint("import_page", __name__)

ALLOWED_ROLES = {"bureau_admin"}
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
# the reader's own list: the page accepts what the importer can read from one uploaded file
_SUFFIXES = SINGLE_FILE_SUFFIXES

TEXT = {
    "zh": {"title": "数据导入", "kind": "数据类型", "parcels": "地块", "zones": "园区边界", "metrics": "企业年度指标",
           "file": "文件", "crs": "坐标系（文件未注明时填写，如 EPSG:4549、gcj02）", "dry": "仅校验，不写入",
           "repair": "自动修复无效几何", "update": "更新已存在的记录", "submit": "提交",
           "encoding": "编码（文件未注明时填写，如 gb18030）", "layer": "图层（文件含多个图层或工作表时填写）",
           "forbidden": "只有市局管理员可以导入数据。", "no_file": "请选择要导入的文件。",
           "bad_token": "表单已过期，请刷新页面后重试。", "bad_type": "不支持的文件类型。",
           "where": "位置", "field": "字段", "problem": "问题", "severity": "级别",
           "note": "导入为全有或全无：文件有任何错误都不会写入数据库。演示数据为合成数据。"},
    "en": {"title": "Import data", "kind": "What the file holds", "parcels": "Parcels", "zones": "Zone boundaries",
           "metrics": "Enterprise annual metrics", "file": "File",
           "crs": "CRS (when the file names none, e.g. EPSG:4549, gcj02)", "dry": "Validate only, write nothing",
           "repair": "Repair invalid geometries", "update": "Update existing records", "submit": "Submit",
           "encoding": "Encoding (when the file names none, e.g. gb18030)",
           "layer": "Layer (when the file holds several layers or sheets)",
           "forbidden": "Only bureau administrators may import data.", "no_file": "Choose a file to import.",
           "bad_token": "The form has expired; reload the page and try again.", "bad_type": "Unsupported file type.",
           "where": "Where", "field": "Field", "problem": "Problem", "severity": "Severity",
           "note": "Imports are all or nothing: a file with any error writes nothing. Demo data is synthetic."},
}

# Jinja autoescapes every value: a hostile string in a file is shown as text.
PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><title>{{ x.title }}</title>
<link rel="stylesheet" href="/assets/gisapp.css"></head>
<body class="import-page"><main>
<h1>{{ x.title }}</h1>
<p>{{ x.note }}</p>
{% if error %}<p id="import-error" class="form-error" role="alert">{{ error }}</p>{% endif %}
<form id="import-form" method="post" enctype="multipart/form-data" action="/admin/import?lang={{ lang }}">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <label for="import-kind">{{ x.kind }}</label>
  <select id="import-kind" name="kind">
    {% for k in ['parcels', 'zones', 'metrics'] %}<option value="{{ k }}" {{ 'selected' if k == kind }}>{{ x[k] }}</option>{% endfor %}
  </select>
  <label for="import-file">{{ x.file }}</label><input id="import-file" type="file" name="file">
  <label for="import-crs">{{ x.crs }}</label><input id="import-crs" name="crs" value="{{ crs }}">
  <label for="import-encoding">{{ x.encoding }}</label><input id="import-encoding" name="encoding" value="{{ encoding }}">
  <label for="import-layer">{{ x.layer }}</label><input id="import-layer" name="layer" value="{{ layer }}">
  <label><input type="checkbox" id="import-dry-run" name="dry_run" value="1" {{ 'checked' if dry_run }}> {{ x.dry }}</label>
  <label><input type="checkbox" id="import-repair" name="repair" value="1"> {{ x.repair }}</label>
  <label><input type="checkbox" id="import-update" name="update_existing" value="1"> {{ x.update }}</label>
  <button id="import-submit" type="submit">{{ x.submit }}</button>
</form>
{% if summary %}<h2 id="import-summary">{{ summary }}</h2>{% endif %}
{% if rows %}<table id="import-report"><thead><tr><th>{{ x.where }}</th><th>{{ x.field }}</th><th>{{ x.problem }}</th>
<th>{{ x.severity }}</th></tr></thead><tbody>
{% for r in rows %}<tr class="{{ r.severity }}"><td>{{ r.where }}</td><td>{{ r.field }}</td><td>{{ r.problem }}</td>
<td>{{ r.severity_label }}</td></tr>{% endfor %}</tbody></table>{% endif %}
{% if more %}<p id="import-more">{{ more }}</p>{% endif %}
</main></body></html>"""


def _page(lang: str, status: int = 200, **values) -> Response:
    values.setdefault("kind", "parcels")
    values.setdefault("crs", "")
    values.setdefault("encoding", "")
    values.setdefault("layer", "")
    values.setdefault("dry_run", True)
    body = render_template_string(PAGE, lang=lang, x=TEXT[lang], csrf=csrf_token(), **values)
    return Response(body, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _allowed() -> bool:
    actor = current_actor()
    return actor is not None and actor.role in ALLOWED_ROLES


@import_page.get("/admin/import")
def show():
    lang = request_lang()
    if not _allowed():
        return _page(lang, 403, error=TEXT[lang]["forbidden"])
    return _page(lang)


@import_page.post("/admin/import")
def submit():
    lang = request_lang()
    x = TEXT[lang]
    if not _allowed():
        return _page(lang, 403, error=x["forbidden"])
    if not csrf_ok():
        return _page(lang, 400, error=x["bad_token"])
    if request.content_length and request.content_length > MAX_UPLOAD_BYTES:
        return _page(lang, 413, error=f"> {MAX_UPLOAD_BYTES // 2**20} MB")
    kind = request.form.get("kind", "parcels")
    crs = (request.form.get("crs") or "").strip() or None
    encoding = (request.form.get("encoding") or "").strip()[:40] or None
    layer = (request.form.get("layer") or "").strip()[:200] or None
    dry_run = bool(request.form.get("dry_run"))
    values = {"kind": kind, "crs": crs or "", "dry_run": dry_run, "encoding": encoding or "", "layer": layer or ""}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(lang, 400, error=x["no_file"], **values)
    # keep a readable (possibly Chinese) name for messages; store under a safe one
    shown = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(upload.filename).name)[:120] or "upload"
    suffix = Path(shown).suffix.lower()
    if suffix not in _SUFFIXES:
        return _page(lang, 400, error=f"{x['bad_type']} ({', '.join(sorted(_SUFFIXES))})", **values)
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
    summary = result.describe().splitlines()[0] if result.wrote else localised_summary(report, lang, wrote=False)
    more = t("import.summary.more", lang, n=left_out) if left_out else ""
    return _page(lang, 200 if report.ok else 422, summary=summary, rows=rows, more=more, **values)
