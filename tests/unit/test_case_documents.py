"""The casework's documents without a database: how they write dates and money (hand-counted),
that each template is the one its source builds, that a case's facts fill every placeholder
(and a missing fact is an error, never a blank), values escaped, and the official layout."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from docx import Document
from docx.shared import Mm, Pt

from gisapp.casework.documents.build import SOURCE, TEMPLATE_DIR, build_all, load_source
from gisapp.casework.documents.context import cited
from gisapp.casework.documents.formats import area, cn_date, number, percent, wan, wan_to_yuan, yuan_upper
from gisapp.casework.documents.render import TemplateError, render, template_for, text_of

ROOT = Path(__file__).resolve().parents[2]


# -- how documents write dates, sums and areas ------------------------------------------------------


@pytest.mark.parametrize("day, text", [
    (dt.date(2026, 3, 2), "2026年3月2日"),      # no leading zeros (GB/T 9704-2012 7.3.5.1)
    (dt.date(2026, 12, 31), "2026年12月31日"),
    (dt.date(2028, 2, 29), "2028年2月29日"),
])
def test_dates_are_written_as_official_documents_write_them(day, text):
    assert cn_date(day) == text
    assert cn_date(None) == "—"


@pytest.mark.parametrize("yuan, text", [
    (Decimal("1615040.00"), "人民币壹佰陆拾壹万伍仟零肆拾元整"),
    (Decimal("3104400"), "人民币叁佰壹拾万肆仟肆佰元整"),
    (Decimal("100010000"), "人民币壹亿零壹万元整"),      # a whole group of zeros read once
    (Decimal("1000000001"), "人民币壹拾亿零壹元整"),
    (Decimal("1001"), "人民币壹仟零壹元整"),
    (Decimal("10010"), "人民币壹万零壹拾元整"),
    (Decimal("1010000"), "人民币壹佰零壹万元整"),
    (Decimal("101000"), "人民币壹拾万壹仟元整"),
    (Decimal("10"), "人民币壹拾元整"),
    (Decimal("3.50"), "人民币叁元伍角整"),             # 整 after 角
    (Decimal("3.05"), "人民币叁元零伍分"),             # no 整 after 分
    (Decimal("3.55"), "人民币叁元伍角伍分"),
    (Decimal("0.55"), "人民币伍角伍分"),
    (Decimal("0"), "人民币零元整"),
])
def test_amounts_in_capital_numerals(yuan, text):
    assert yuan_upper(yuan) == text


def test_sums_in_wan_yuan_and_areas():
    assert wan(Decimal("1552.224")) == "1,552.22万元"
    assert wan(Decimal("161.505")) == "161.51万元"             # half up, not to even
    assert wan(None) == "—"
    assert wan_to_yuan(Decimal("161.50")) == Decimal("1615000.00")
    assert number(1234567.891, 2) == "1,234,567.89"
    # 15,000 m² = 22.5 亩 (1 亩 = 10000/15 m²) = 1.5 ha
    assert area(15000) == "15,000.00平方米（约22.50亩、1.5000公顷）"
    assert percent(Decimal("0.2")) == "20%" and percent(0.125) == "12.5%"
    with pytest.raises(ValueError):
        yuan_upper(-1)


def test_a_document_cites_the_article_without_repeating_its_text():
    assert cited("国土资源部令第53号第五条、第六条") == "第五条、第六条"
    assert cited("国土资源部令第53号第十五条；国土资源听证规定") == "第十五条；国土资源听证规定"
    assert cited("实施意见（2021）1.4") == "第1.4项"
    assert cited(None) == "—"


# -- the templates and their source -----------------------------------------------------------------


def _document_kinds() -> set[str]:
    """The document kinds the casework's migration declares (land.case_document_kinds)."""
    sql = (ROOT / "sql" / "migrations" / "1800_create_casework.sql").read_text()
    block = sql.split("INSERT INTO land.case_document_kinds (code) VALUES", 1)[1].split(";", 1)[0]
    return set(re.findall(r"\('([a-z_]+)'\)", block))


def test_every_document_kind_has_a_template_and_a_number_prefix():
    source = load_source()
    kinds = _document_kinds()
    assert len(kinds) > 15
    assert kinds == set(source["kinds"])
    for kind in kinds:
        template, prefix = template_for(kind)
        assert template.exists(), template
        assert prefix.startswith(source["authority_code"]) and len(prefix) > len(source["authority_code"])
    # the swap agreement of a low-efficiency exit is not an idle-land disposal's notice
    assert template_for("swap_agreement", "idle_land_disposal")[0].name == "disposal_notice.docx"
    assert template_for("swap_agreement", "low_efficiency_exit") == (TEMPLATE_DIR / "exit_notice.docx", "沪规资低效退")


def _paragraphs(path: Path) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in Document(str(path)).paragraphs]


def test_the_templates_are_what_their_source_builds(tmp_path):
    built = build_all(SOURCE, tmp_path)
    assert {p.name for p in built} == {p.name for p in TEMPLATE_DIR.glob("*.docx")}
    for path in built:
        assert _paragraphs(path) == _paragraphs(TEMPLATE_DIR / path.name), (
            f"{path.name} differs from source.yml: run scripts/make_casework_templates.py")


def test_a_build_is_reproducible(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = build_all(SOURCE, tmp_path / "a"), build_all(SOURCE, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_the_templates_have_the_official_layout_and_name_their_fonts_with_fallbacks():
    path = TEMPLATE_DIR / "fee_decision.docx"
    doc = Document(str(path))
    section = doc.sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin, section.bottom_margin,
             section.left_margin, section.right_margin)
    # A4 and GB/T 9704's margins, to the twip the file stores them in
    assert [round(s / Mm(1)) for s in sizes] == [210, 297, 37, 35, 28, 26]
    title = next(p for p in doc.paragraphs if p.text == "征缴土地闲置费决定书")
    assert title.style.name == "公文标题" and title.style.font.size == Pt(22)
    assert title.style.font.name == "方正小标宋简体"
    assert title.style.paragraph_format.alignment == 1  # centred
    body = doc.styles["公文正文"]
    assert body.font.name == "仿宋_GB2312" and body.font.size == Pt(16)
    assert [p.text for p in doc.paragraphs if p.style.name == "发文字号"] == ["{{ doc.no }}"]
    assert [p.text for p in doc.paragraphs if p.style.name == "成文日期"] == ["{{ doc.issued_on }}"]
    with zipfile.ZipFile(path) as z:
        fonts = z.read("word/fontTable.xml").decode()
    for name, fallback in load_source()["fonts"].values():
        assert re.search(rf'w:name="{name}"><w:altName w:val="{fallback}"/>', fonts), name


# -- rendering ----------------------------------------------------------------------------------------


def sample_context(synthetic: bool = True) -> dict:
    """A case's facts as gisapp.casework.documents.context writes them (every key it gives)."""
    steps = {s: {"done_on": d, "doc_no": n, "result": "", "label": s} for s, d, n in [
        ("investigation_notice", "2026年1月9日", "沪规资闲调〔2026〕1号"),
        ("determination", "2026年2月20日", "沪规资闲认〔2026〕1号"),
        ("hearing_notice", "2026年3月2日", "沪规资听告〔2026〕1号"),
        ("recovery_approval", "2026年3月10日", "无文号"),
        ("enterprise_notified", "2026年1月9日", "沪规资低效告〔2026〕1号")]}
    money = [{"purpose": "补偿款", "payer": "政府", "amount": "120.00万元", "amount_upper": "人民币壹佰贰拾万元整",
              "basis": "评估价", "due_on": "2026年6月30日"}]
    return {
        "synthetic": synthetic, "synthetic_note": "合成演示数据：不具有法律效力",
        "doc": {"title": "征缴土地闲置费决定书", "no": "沪规资闲费〔2026〕7号", "issued_on": "2026年3月20日",
                "kind": "征缴土地闲置费决定书"},
        "authority": "上海市浦东新区规划和自然资源局",
        "land_user": {"name": "甲乙&丙<有限>公司", "credit_code": "91310000SYN0000013"},
        "zone": {"name": "外高桥港综合保税区", "body": "外高桥港综合保税区管理机构"},
        "parcel": {"code": "WGQ-00018", "area": "15,000.00平方米（约22.50亩、1.5000公顷）", "land_use": "工业用地（1001）",
                   "location": "上海市浦东新区外高桥港综合保税区", "zone": "外高桥港综合保税区", "district": "浦东新区"},
        "grant": {"contract_no": "沪规划资源出让〔合成〕0000013号", "granted_on": "2023年4月26日", "price": "723.03万元",
                  "price_upper": "人民币柒佰贰拾叁万零叁佰元整", "delivery_due_on": "2023年6月22日",
                  "delivered_on": "2023年6月22日", "agreed_start_on": "2023年9月5日",
                  "agreed_completion_on": "2026年5月7日", "supply": "出让"},
        "case": {"code": "XZ-2026-00001", "kind": "闲置土地处置", "pathway": "征缴土地闲置费", "opened_on": "2026年1月5日",
                 "responsible_body": "所在区规划和自然资源主管部门"},
        "idle": {"clock_from": "2023年9月5日", "conclusion": "闲置系国有建设用地使用权人的原因造成", "cause": "使用权人的原因"},
        "finding": {"as_of": "2026年6月30日", "text": "约定动工日期已过一年未动工"},
        "evidence": ["闲置期限自2023年9月5日起计算。", "2026年1月9日，发出闲置土地调查通知书。"],
        "basis": "第十四条第（一）项、第十六条", "basis_full": "国土资源部令第53号第十四条第（一）项、第十六条",
        "step": {"label": "下达征缴土地闲置费决定书", "done_on": "2026年3月20日"},
        "steps": steps,
        "reply_text": "你单位于2026年2月6日提交了说明材料。",
        "hearing": {"intended": "作出征缴土地闲置费的决定", "text": "你单位于2026年3月5日放弃听证。"},
        "periods": {"reply_days": 30, "hearing_request_working_days": 5, "fee_payment_days": 30,
                    "cancellation_days": 30, "reconsideration_days": 60, "lawsuit_months": 6, "recovery_years": 2,
                    "le_plan_days": 60, "le_handover_days": 90, "zr_rectification_years": 2},
        "due": {"reply": "2026年2月9日", "hearing_request": "2026年3月9日", "fee_payment": "2026年4月20日",
                "cancellation": "2026年4月20日", "reconsideration": "2026年5月19日", "lawsuit": "2026年9月20日",
                "le_plan": "2026年3月10日", "le_handover": "2026年6月18日"},
        "fee": {"amount": "144.61万元", "amount_upper": "人民币壹佰肆拾肆万陆仟壹佰元整", "base": "723.03万元", "rate": "20%",
                "basis": "出让价款 723.03 万元 × 20%", "due_on": "2026年4月20日", "approved_by": "上海市浦东新区人民政府"},
        "money": money,
        "extension": {"previous_start_on": "2023年9月5日", "new_start_on": "2026年9月1日",
                      "new_completion_on": "2028年9月1日", "latest_start_on": "2027年9月1日", "cap_years": 1},
    }


TEMPLATES = sorted(p.name for p in TEMPLATE_DIR.glob("*.docx"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_placeholder_is_filled_and_the_facts_are_in_the_text(name):
    text = text_of(render(TEMPLATE_DIR / name, sample_context()))
    assert not re.search(r"\{\{|\{%|\}\}|%\}", text)
    assert "沪规资闲费〔2026〕7号" in text and "2026年3月20日" in text
    assert "甲乙&丙<有限>公司" in text or "外高桥港综合保税区管理机构" in text   # escaped, not lost
    assert text.index("上海市浦东新区规划和自然资源局") > text.index("特此" if "特此" in text else "如不服")
    assert "合成演示数据：不具有法律效力" in text and "不具有法律效力。）" in text


def test_the_fee_decision_states_amount_deadline_basis_and_remedies():
    text = text_of(render(TEMPLATE_DIR / "fee_decision.docx", sample_context()))
    assert "征缴土地闲置费144.61万元（人民币壹佰肆拾肆万陆仟壹佰元整）" in text
    assert "自本决定书送达之日起30日内（至2026年4月20日）" in text
    assert "《闲置土地处置办法》第十四条第（一）项、第十六条" in text
    assert "60日内（至2026年5月19日）" in text and "6个月内（至2026年9月20日）" in text
    assert "1. 闲置期限自2023年9月5日起计算。\n2. 2026年1月9日，发出闲置土地调查通知书。" in text


def test_a_real_document_says_nothing_of_synthetic_data():
    text = text_of(render(TEMPLATE_DIR / "investigation_notice.docx", sample_context(synthetic=False)))
    assert "合成演示数据" not in text and "不具有法律效力" not in text


def test_a_fact_the_case_lacks_is_an_error_naming_it():
    context = sample_context()
    del context["due"]
    with pytest.raises(TemplateError, match="due"):
        render(TEMPLATE_DIR / "investigation_notice.docx", context)
    context = sample_context()
    context["fee"] = None   # a fee decision without a fee decided
    with pytest.raises(TemplateError, match="fee_decision.docx"):
        render(TEMPLATE_DIR / "fee_decision.docx", context)


def test_a_broken_tag_in_an_edited_template_is_refused(tmp_path):
    source = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    source["documents"]["investigation_notice"]["body"].append("请于{{ due.reply 前提交。")
    (tmp_path / "source.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    build_all(tmp_path / "source.yml", tmp_path)
    with pytest.raises(TemplateError, match="investigation_notice.docx"):
        render(tmp_path / "investigation_notice.docx", sample_context())


def test_the_rendered_file_is_a_word_document():
    data = render(TEMPLATE_DIR / "hearing_notice.docx", sample_context())
    assert data[:2] == b"PK"
    assert Document(io.BytesIO(data)).core_properties.title == "听证告知书"
