"""Build the casework's .docx templates from their readable source (``source.yml`` next to
them): ``python scripts/make_casework_templates.py``. A bureau can edit either the source and
build again, or the .docx files themselves in Word (keep the ``{{ ... }}`` placeholders whole).

The layout is that of Chinese official documents (GB/T 9704-2012, simplified: no red masthead):
A4, margins 37/35/28/26 mm, the title in 2号 (22 pt) 方正小标宋简体 centred, the number (文号)
centred under it, the addressee flush left, the body in 3号 (16 pt) 仿宋_GB2312 with a two-character
indent on a 28 pt line, headings in 黑体 and 楷体, the issuing authority and the date (in Arabic
numerals) on the right, the page number at the foot. Each font is named in the template with
a fallback (``w:altName`` in the font table) for machines without it.

Source lines of a document's ``body``: ``# text`` a first-level heading (黑体), ``## text`` a
second-level one (楷体), ``{%p ... %}`` a docxtpl control paragraph (loops, conditions), ``@name``
the shared block ``name`` of the source's ``blocks``, anything else a body paragraph.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import yaml
from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "data" / "templates" / "casework"
SOURCE = TEMPLATE_DIR / "source.yml"
#: the body's line: 3号 characters on a fixed 28 pt line (22 lines a page, as GB/T 9704 asks)
LINE = Pt(28)
BODY_SIZE = Pt(16)
TITLE_SIZE = Pt(22)
NOTE_SIZE = Pt(14)
#: the date every built template carries (core properties, zip entries): builds are reproducible
FIXED_TIME = dt.datetime(2026, 1, 1)

#: paragraph styles of the templates: name -> (font role, size, bold, alignment, first-line
#: indent in characters, right indent in characters, space before in lines)
STYLES: dict[str, tuple[str, Pt, bool, Any, float, float, float]] = {
    "公文标题": ("title", TITLE_SIZE, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 0, 0),
    "发文字号": ("body", BODY_SIZE, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 0, 1),
    "主送": ("body", BODY_SIZE, False, WD_ALIGN_PARAGRAPH.LEFT, 0, 0, 1),
    "公文正文": ("body", BODY_SIZE, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, 0, 0),
    "一级标题": ("heading", BODY_SIZE, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, 0, 0),
    "二级标题": ("kai", BODY_SIZE, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 2, 0, 0),
    "发文机关署名": ("body", BODY_SIZE, False, WD_ALIGN_PARAGRAPH.RIGHT, 0, 4, 2),
    "成文日期": ("body", BODY_SIZE, False, WD_ALIGN_PARAGRAPH.RIGHT, 0, 4, 0),
    "附注": ("body", NOTE_SIZE, False, WD_ALIGN_PARAGRAPH.LEFT, 0, 0, 0),
    "演示数据说明": ("heading", NOTE_SIZE, True, WD_ALIGN_PARAGRAPH.CENTER, 0, 0, 0),
}


def load_source(path: Path = SOURCE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _fonts(source: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """font role -> (font named, its fallback)."""
    return {role: (names[0], names[1] if len(names) > 1 else names[0]) for role, names in source["fonts"].items()}


def _set_font(rpr_owner, name: str, size: Pt, bold: bool = False) -> None:
    """The font for every script (Latin and East Asian alike: digits in a notice are 仿宋 too)."""
    font = rpr_owner.font
    font.name = name
    font.size = size
    font.bold = bold
    rpr = rpr_owner.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _styles(doc, fonts: dict[str, tuple[str, str]]) -> None:
    normal = doc.styles["Normal"]
    _set_font(normal, fonts["body"][0], BODY_SIZE)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    for name, (role, size, bold, align, indent, right, before) in STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.quick_style = True
        _set_font(style, fonts[role][0], size, bold)
        fmt = style.paragraph_format
        fmt.alignment = align
        fmt.first_line_indent = Pt(size.pt * indent) if indent else None
        fmt.right_indent = Pt(size.pt * right) if right else None
        fmt.space_before = Pt(LINE.pt * before) if before else Pt(0)
        if role == "title":  # a two-line title keeps its own, taller line
            fmt.line_spacing = Pt(36)


def _font_table(doc, fonts: dict[str, tuple[str, str]]) -> None:
    """Name each font in the font table with its fallback (``w:altName``): Word substitutes the
    fallback on a machine without the font; LibreOffice reads the same table."""
    part = next(rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable"))
    from lxml import etree

    root = etree.fromstring(part.blob)
    known = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, fallback in fonts.values():
        if name in known:
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        if fallback != name:
            alt = etree.SubElement(font, qn("w:altName"))
            alt.set(qn("w:val"), fallback)
        charset = etree.SubElement(font, qn("w:charset"))
        charset.set(qn("w:val"), "86")  # GB2312
        family = etree.SubElement(font, qn("w:family"))
        family.set(qn("w:val"), "modern" if "仿宋" in name else "roman")
        known.add(name)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page(doc, fonts: dict[str, tuple[str, str]]) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # the page number at the foot: "— 1 —" in 4号 宋体-like body font, as GB/T 9704 7.5
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in ("— ", None, " —"):
        run = footer.add_run(text or "")
        _set_font(run, fonts["body"][0], NOTE_SIZE)
        if text is None:
            for kind, instr in (("begin", None), (None, " PAGE "), ("end", None)):
                if kind:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                else:
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = instr
                run._r.append(el)


def _lines(doc_source: dict[str, Any], blocks: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(style, text) of a document, the shared blocks expanded."""
    out: list[tuple[str, str]] = [("control", "{%p if synthetic %}"), ("演示数据说明", "{{ synthetic_note }}"),
                                  ("control", "{%p endif %}"),
                                  ("公文标题", doc_source["title"]), ("发文字号", "{{ doc.no }}"),
                                  ("主送", doc_source["addressee"])]

    def expand(lines: list[str]) -> None:
        for line in lines:
            line = str(line)
            if line.startswith("@"):
                expand(blocks[line[1:].strip()])
            elif line.startswith("{%p"):
                out.append(("control", line))
            elif line.startswith("## "):
                out.append(("二级标题", line[3:]))
            elif line.startswith("# "):
                out.append(("一级标题", line[2:]))
            else:
                out.append(("公文正文", line))

    expand(doc_source["body"])
    out += [("发文机关署名", "{{ authority }}"), ("成文日期", "{{ doc.issued_on }}")]
    expand(blocks.get("footnotes", []))
    return out


def build_template(kind: str, source: dict[str, Any], out_dir: Path = TEMPLATE_DIR) -> Path:
    """Write ``<kind>.docx`` from the source's document ``kind``."""
    fonts = _fonts(source)
    doc = Document()
    _styles(doc, fonts)
    _font_table(doc, fonts)
    _page(doc, fonts)
    body = doc.paragraphs[0] if doc.paragraphs else None
    for style, text in _lines(source["documents"][kind], source.get("blocks", {})):
        if body is not None:  # the empty paragraph a new document starts with
            p, body = body, None
            p.style = doc.styles["Normal" if style == "control" else style]
            p.add_run(text)
        else:
            p = doc.add_paragraph(text, style=None if style == "control" else style)
    doc.core_properties.title = str(source["documents"][kind]["title"])
    doc.core_properties.author = "gisapp"
    doc.core_properties.comments = "由 gisapp/data/templates/casework/source.yml 生成（scripts/make_casework_templates.py）"
    doc.core_properties.created = doc.core_properties.modified = FIXED_TIME
    doc.core_properties.last_modified_by = "gisapp"
    doc.core_properties.revision = 1
    path = out_dir / f"{kind}.docx"
    buffer = io.BytesIO()
    doc.save(buffer)
    path.write_bytes(_reproducible(buffer.getvalue()))
    return path


def _reproducible(data: bytes) -> bytes:
    """The same source builds the same bytes: every zip entry dated FIXED_TIME (a build changes a
    template's file only when its content changed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()


def build_all(source_path: Path = SOURCE, out_dir: Path = TEMPLATE_DIR) -> list[Path]:
    """Every template of the source."""
    source = load_source(source_path)
    return [build_template(kind, copy.deepcopy(source), out_dir) for kind in source["documents"]]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
