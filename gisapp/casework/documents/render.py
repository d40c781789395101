"""Render a template with a case's facts (docxtpl): every placeholder must be filled (a
template that names a fact the case has not is an error naming it, never a blank in a notice),
values are escaped as XML (an enterprise named ``A&B`` stays one), and nothing of the template
language may be left in the text."""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docxtpl import DocxTemplate

from gisapp.casework.documents.build import SOURCE, TEMPLATE_DIR, load_source, sha256_of
from gisapp.errors import InputError

#: template language that must not survive a rendering (a tag Word split across runs, a typo)
LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}")


class TemplateError(InputError):
    """A template the case cannot fill: a placeholder of no known fact, or broken tags."""


@lru_cache(maxsize=4)
def _source(path: str, mtime: float) -> dict[str, Any]:
    return load_source(Path(path))


def source(path: Path = SOURCE) -> dict[str, Any]:
    """The templates' source (kinds, prefixes, authorities), read again when it changed."""
    return _source(str(path), path.stat().st_mtime)


def template_for(kind: str, case_kind: str | None = None, template_dir: Path = TEMPLATE_DIR) -> tuple[Path, str]:
    """(template file, number prefix) of a document kind (in a case of ``case_kind``: a kind two
    kinds of case share may be written by another template for one of them)."""
    spec = source().get("by_case_kind", {}).get(case_kind, {}).get(kind) or source()["kinds"].get(kind)
    if spec is None:
        raise TemplateError(f"no template renders documents of kind {kind!r} (gisapp/data/templates/casework/source.yml)")
    return template_dir / f"{spec['template']}.docx", source()["authority_code"] + spec["prefix"]


def render(template: Path, context: dict[str, Any]) -> bytes:
    """The .docx of ``template`` filled with ``context``."""
    tpl = DocxTemplate(str(template))
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    try:
        tpl.render(context, env, autoescape=True)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{template.name}: a placeholder the case cannot fill ({exc.message})") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{template.name}: broken template tag ({exc.message}, line {exc.lineno})") from exc
    out = io.BytesIO()
    tpl.save(out)
    data = out.getvalue()
    left = LEFTOVER.search(text_of(data))
    if left:
        raise TemplateError(f"{template.name}: template language left in the document near {left.group()!r}")
    return data


def text_of(data: bytes) -> str:
    """The text of a .docx, paragraph by paragraph (body, then headers and footers)."""
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for section in doc.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def template_digest(template: Path) -> str:
    return sha256_of(template)
