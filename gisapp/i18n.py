"""Every UI label in Chinese (default) and English: the one translation source.

Layer titles and field labels live in the layer declarations; everything else is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gisapp.errors import Term

LANGUAGES = ("zh", "en")

TEXTS: dict[str, dict[str, str]] = {
    "app.title": {"zh": "上海综合保税区土地资源管理", "en": "Shanghai Bonded Zones Land Resources"},
    "app.synthetic": {"zh": "合成演示数据：边界、地块与企业均为虚构", "en": "Synthetic demo data: boundaries, parcels and enterprises are invented"},
    "map.layers": {"zh": "图层", "en": "Layers"},
    "map.legend": {"zh": "图例", "en": "Legend"},
    "map.basemap.none": {"zh": "无底图（离线）", "en": "No basemap (offline)"},
    "map.basemap.osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "map.basemap.tianditu": {"zh": "天地图", "en": "Tianditu"},
    "map.zoom_in": {"zh": "放大到 {zoom} 级以上显示地块（当前视野 {count} 块）",
                    "en": "Zoom to level {zoom} or closer to see parcels ({count} in view)"},
    "map.truncated": {"zh": "视野内地块过多，仅显示前 {count} 块", "en": "Too many parcels in view; showing the first {count}"},
    "detail.title": {"zh": "地块详情", "en": "Parcel detail"},
    "detail.empty": {"zh": "点击地图上的地块查看详情", "en": "Click a parcel on the map to see its details"},
    "lang.switch": {"zh": "English", "en": "中文"},
}

# Sign-in, the parcel page and its edit forms (gisapp.web.auth, gisapp.web.pages.parcel) and the
# messages of gisapp.queries.edits.
TEXTS.update({
    "auth.title": {"zh": "登录", "en": "Sign in"},
    "auth.username": {"zh": "用户名", "en": "User name"},
    "auth.password": {"zh": "密码", "en": "Password"},
    "auth.submit": {"zh": "登录", "en": "Sign in"},
    "auth.logout": {"zh": "退出登录", "en": "Sign out"},
    "auth.signed_in_as": {"zh": "当前用户：{name}（{role}）", "en": "Signed in as {name} ({role})"},
    "auth.refused": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "auth.throttled": {"zh": "登录失败次数过多，请约 {minutes} 分钟后再试",
                       "en": "Too many failed sign-ins; try again in about {minutes} minute(s)"},
    "auth.required": {"zh": "请先登录", "en": "Please sign in"},
    "auth.bad_form": {"zh": "登录表单已过期，请重试", "en": "The sign-in form expired; please try again"},
    "role.bureau_admin": {"zh": "规划局管理员", "en": "Bureau administrator"},
    "role.bureau_viewer": {"zh": "规划局查看", "en": "Bureau viewer"},
    "role.zone_editor": {"zh": "园区编辑", "en": "Zone editor"},
    "role.analyst": {"zh": "分析人员", "en": "Analyst"},
    "parcel.title": {"zh": "地块 {code}", "en": "Parcel {code}"},
    "parcel.not_found": {"zh": "没有编号为 {code} 的地块", "en": "There is no parcel with the code {code}"},
    "parcel.back_to_map": {"zh": "返回地图", "en": "Back to the map"},
    "parcel.read_only": {"zh": "您可以查看此地块，但不能编辑（不在您负责的园区内或角色为只读）",
                         "en": "You can view this parcel but not edit it (outside your zones, or a read-only role)"},
    "parcel.attributes": {"zh": "基本信息", "en": "Attributes"},
    "parcel.history": {"zh": "状态历史", "en": "Status history"},
    "parcel.changes": {"zh": "修改记录（审计）", "en": "Change log (audit)"},
    "parcel.as_of": {"zh": "查看某日的地块", "en": "The parcel as it was on a date"},
    "parcel.as_of_show": {"zh": "查看", "en": "Show"},
    "parcel.as_of_recorded": {"zh": "{on} 日终时记录的状态", "en": "As recorded at the end of {on}"},
    "parcel.as_of_before": {"zh": "逐条修改记录始于 {since}；更早日期的状态取自状态历史",
                            "en": "Row-level records begin {since}; for earlier dates the status comes from the status history"},
    "parcel.as_of_absent": {"zh": "该日期时地块尚不存在", "en": "The parcel did not exist on that date"},
    "parcel.findings": {"zh": "规则发现", "en": "Rule findings"},
    "parcel.no_findings": {"zh": "暂无规则发现", "en": "No findings"},
    "parcel.findings_as_of": {"zh": "规则发现截至 {at}（评估日期 {day}）",
                              "en": "Findings as of {at} (assessed as of {day})"},
    "parcel.findings_pending": {"zh": "正在重新评估：{since} 起的更改尚未计入，下列发现可能已过时",
                                "en": "Re-assessment pending: changes since {since} are not in the findings below yet"},
    "parcel.findings_zone_pending": {
        "zh": "本地块自身的规则发现截至 {at}（评估日期 {day}）；园区范围的规则（亩均排名、绿地平衡、边界核查等）"
              "正在重新评估：{since} 起的更改尚未计入，标“待更新”的发现可能已过时",
        "en": "The parcel's own findings as of {at} (assessed as of {day}); zone-wide rules (per-mu ranks, "
              "green balance, boundary checks) are being re-assessed: changes since {since} are not in the "
              "findings marked pending yet"},
    "parcel.finding_pending": {"zh": "待更新", "en": "pending"},
    "parcel.grants": {"zh": "出让与履约要求", "en": "Grants and performance requirements"},
    "parcel.progress": {"zh": "建设进度", "en": "Construction progress"},
    "parcel.metrics": {"zh": "年度经营指标", "en": "Annual metrics"},
    "parcel.mixed_use": {"zh": "混合用地构成", "en": "Mixed-use shares"},
    "parcel.green": {"zh": "绿地面积", "en": "Green area"},
    "parcel.quota": {"zh": "能耗与排放额度申请", "en": "Energy and pollutant quota requests"},
    "parcel.geometry": {"zh": "地块边界", "en": "Parcel geometry"},
    "parcel.none": {"zh": "暂无记录", "en": "No records"},
    "field.code": {"zh": "地块编号", "en": "Parcel code"},
    "field.zone": {"zh": "所在园区", "en": "Zone"},
    "field.status": {"zh": "状态", "en": "Status"},
    "field.status_since": {"zh": "状态起始日", "en": "Status since"},
    "field.land_use": {"zh": "用地性质", "en": "Land use"},
    "field.area_m2": {"zh": "面积（m²）", "en": "Area (m²)"},
    "field.enterprise": {"zh": "企业", "en": "Enterprise"},
    "field.version": {"zh": "版本", "en": "Version"},
    "field.updated": {"zh": "最后修改", "en": "Last changed"},
    "field.from_status": {"zh": "原状态", "en": "From"},
    "field.to_status": {"zh": "新状态", "en": "New status"},
    "field.changed_on": {"zh": "变更日期", "en": "Date of change"},
    "field.reason": {"zh": "原因", "en": "Reason"},
    "field.note": {"zh": "备注", "en": "Note"},
    "field.changed_by": {"zh": "操作人", "en": "By"},
    "field.changed_at": {"zh": "记录时间", "en": "Recorded at"},
    "field.action": {"zh": "操作", "en": "Action"},
    "field.what": {"zh": "内容", "en": "What changed"},
    "field.measured_on": {"zh": "测量日期", "en": "Measured on"},
    "field.green_area_m2": {"zh": "绿地面积（m²）", "en": "Green area (m²)"},
    "field.reported_on": {"zh": "填报日期", "en": "Reported on"},
    "field.started_on": {"zh": "实际动工日期", "en": "Started on"},
    "field.should_develop_area_m2": {"zh": "应开发面积（m²）", "en": "Area to develop (m²)"},
    "field.developed_area_m2": {"zh": "已开发面积（m²）", "en": "Area developed (m²)"},
    "field.invested_wan": {"zh": "已投资（万元）", "en": "Invested (10k CNY)"},
    "field.total_investment_wan": {"zh": "总投资（万元）", "en": "Total investment (10k CNY)"},
    "field.completed_on": {"zh": "竣工日期", "en": "Completed on"},
    "field.accepted_on": {"zh": "竣工验收日期", "en": "Accepted on"},
    "field.year": {"zh": "年度", "en": "Year"},
    "field.grading_category": {"zh": "评价类别", "en": "Grading category"},
    "field.revenue_wan": {"zh": "营业收入（万元）", "en": "Revenue (10k CNY)"},
    "field.tax_wan": {"zh": "税收（万元）", "en": "Tax (10k CNY)"},
    "field.value_added_wan": {"zh": "增加值（万元）", "en": "Value added (10k CNY)"},
    "field.energy_tce": {"zh": "能耗（吨标煤）", "en": "Energy (tce)"},
    "field.electricity_kwh": {"zh": "用电量（kWh）", "en": "Electricity (kWh)"},
    "field.emissions_t": {"zh": "主要污染物排放（吨）", "en": "Major pollutants (t)"},
    "field.employees": {"zh": "从业人数", "en": "Employees"},
    "field.rd_spend_wan": {"zh": "研发投入（万元）", "en": "R&D spend (10k CNY)"},
    "field.components": {"zh": "用途及建筑面积占比（每行：用地代码 占比%）",
                         "en": "Uses and floor-area shares (one per line: land-use code share%)"},
    "field.geom": {"zh": "新边界（GeoJSON，CGCS2000 经纬度）", "en": "New geometry (GeoJSON, CGCS2000 lon/lat)"},
    "field.decision": {"zh": "审核结论", "en": "Decision"},
    "field.account_id": {"zh": "额度账户", "en": "Quota account"},
    "field.amount": {"zh": "申请数量", "en": "Amount"},
    "field.requested_on": {"zh": "申请日期", "en": "Requested on"},
    "field.contract_no": {"zh": "合同编号", "en": "Contract no."},
    "field.indicator": {"zh": "指标", "en": "Indicator"},
    "field.review_stage": {"zh": "考核阶段", "en": "Review stage"},
    "field.min_value": {"zh": "下限", "en": "Minimum"},
    "field.rule": {"zh": "规则", "en": "Rule"},
    "field.outcome": {"zh": "结论", "en": "Outcome"},
    "field.granted_on": {"zh": "出让日期", "en": "Granted on"},
    "field.term_years": {"zh": "年限（年）", "en": "Term (years)"},
    "field.price_wan": {"zh": "出让价款（万元）", "en": "Price (10k CNY)"},
    "field.is_standardized": {"zh": "标准地", "en": "Standardized"},
    "field.grant": {"zh": "出让记录", "en": "Grant"},
    "field.resource": {"zh": "资源", "en": "Resource"},
    "field.request_status": {"zh": "办理状态", "en": "Decision"},
    "field.max_value": {"zh": "上限", "en": "Maximum"},
    "edit.save": {"zh": "保存", "en": "Save"},
    "edit.open_form": {"zh": "填报 / 修改", "en": "Add or change"},
    "edit.change_status": {"zh": "变更状态", "en": "Change status"},
    "edit.confirm": {"zh": "确认", "en": "Confirm"},
    "edit.dismiss": {"zh": "驳回", "en": "Dismiss"},
    "edit.saved": {"zh": "已保存（第 {version} 版）", "en": "Saved (version {version})"},
    "edit.conflict": {"zh": "保存失败：该记录已被 {by} 于 {at} 修改（现为第 {version} 版），您的修改未保存。下方为当前值，请在此基础上重新编辑。",
                      "en": "Not saved: {by} changed this record at {at} (now version {version}). Your edit was not "
                            "written; the current values are shown below, edit from them."},
    "edit.forbidden": {"zh": "无权编辑：{detail}", "en": "Not allowed: {detail}"},
    "edit.failed": {"zh": "未保存，请修改标出的字段", "en": "Not saved; correct the marked fields"},
    "edit.err.required": {"zh": "必填", "en": "Required"},
    "edit.err.not_number": {"zh": "“{value}”不是数字", "en": "“{value}” is not a number"},
    "edit.err.not_integer": {"zh": "“{value}”不是整数", "en": "“{value}” is not a whole number"},
    "edit.err.negative": {"zh": "不能为负数", "en": "Must not be negative"},
    "edit.err.min": {"zh": "不能小于 {min}", "en": "Must be at least {min}"},
    "edit.err.min_exclusive": {"zh": "必须大于 {min}", "en": "Must be more than {min}"},
    "edit.err.max": {"zh": "不能大于 {max}", "en": "Must be at most {max}"},
    "edit.err.not_date": {"zh": "“{value}”不是有效日期（格式 YYYY-MM-DD）", "en": "“{value}” is not a date (YYYY-MM-DD)"},
    "edit.err.future": {"zh": "日期不能晚于今天（{today}）", "en": "The date cannot be after today ({today})"},
    "edit.err.date_order": {"zh": "不能早于{other}（{other_value}）", "en": "Cannot be before {other} ({other_value})"},
    "edit.err.before_current": {"zh": "不能早于当前状态的起始日（{since}）",
                                "en": "Cannot be before the current status began ({since})"},
    "edit.err.same_status": {"zh": "地块已处于该状态（自 {since} 起），没有可记录的变更；状态起始日只随状态变更而改变",
                             "en": "The parcel already has this status (since {since}): there is no change to record; "
                                   "the date a status began changes only with a status change"},
    "edit.err.unknown_code": {"zh": "未知代码“{value}”", "en": "Unknown code “{value}”"},
    "edit.err.too_long": {"zh": "不能超过 {max} 个字符", "en": "At most {max} characters"},
    "edit.err.shares_sum": {"zh": "各用途占比合计为 {total}%，应为 100%", "en": "The shares sum to {total}%; they must sum to 100%"},
    "edit.err.share_line": {"zh": "第 {line} 行“{value}”应为：用地代码 占比", "en": "Line {line} “{value}” should be: land-use code share"},
    "edit.err.duplicate_use": {"zh": "用途 {value} 重复", "en": "The use {value} is listed twice"},
    "edit.err.transition": {"zh": "不能从“{from_label}”转为“{to_label}”：该转换不在地块生命周期允许的范围内。可转为：{allowed}",
                            "en": "Cannot change from “{from_label}” to “{to_label}”: that step is not in the parcel "
                                  "lifecycle. Allowed next: {allowed}"},
    "edit.err.green_exceeds": {"zh": "绿地面积 {value} m² 超过地块面积 {area} m²",
                               "en": "Green area {value} m² exceeds the parcel's area {area} m²"},
    "edit.err.developed_exceeds": {"zh": "已开发面积不能超过应开发面积（{limit} m²）",
                                   "en": "Cannot exceed the area to develop ({limit} m²)"},
    "edit.err.min_max": {"zh": "下限不能大于上限", "en": "The minimum cannot exceed the maximum"},
    "edit.err.one_bound": {"zh": "请至少填写下限或上限之一", "en": "Give a minimum or a maximum"},
    "edit.err.account_mismatch": {"zh": "该账户为 {year} 年 {resource}，与申请不符",
                                  "en": "That account is for {resource} in {year}, not what is requested"},
    "edit.err.account_parcel": {"zh": "该额度账户不属于本地块的项目", "en": "That quota account is not a project of this parcel"},
    "edit.err.grant_parcel": {"zh": "该出让记录不属于本地块", "en": "That grant does not belong to this parcel"},
    "edit.err.duplicate": {"zh": "已有相同的记录（{what}），请编辑已有记录", "en": "A record with the same {what} exists; edit that one"},
    "edit.err.constraint": {"zh": "数值不符合数据库规则 {constraint}", "en": "The value breaks the database rule {constraint}"},
    "edit.err.no_enterprise": {"zh": "地块未登记企业，无法填报经营指标",
                               "en": "No enterprise is registered on this parcel, so metrics cannot be recorded"},
    "edit.err.geom_parse": {"zh": "无法解析为 GeoJSON 面：{detail}", "en": "Not a GeoJSON polygon: {detail}"},
    "edit.err.geom_empty": {"zh": "边界为空", "en": "The geometry is empty"},
    "edit.err.geom_srid": {"zh": "坐标系应为 EPSG:4490（收到 {srid}）", "en": "The CRS must be EPSG:4490 (got {srid})"},
    "edit.err.geom_type": {"zh": "应为面（Polygon/MultiPolygon），收到 {type}", "en": "Must be a Polygon or MultiPolygon, got {type}"},
    "edit.err.geom_invalid": {"zh": "几何无效：{reason}", "en": "Invalid geometry: {reason}"},
    "edit.err.geom_no_boundary": {"zh": "园区在 {on} 没有生效的批复边界", "en": "The zone has no approved boundary in force on {on}"},
    "edit.err.geom_outside": {"zh": "有 {outside_m2} m² 超出园区批复边界（容差 {tolerance_m2} m²）",
                              "en": "{outside_m2} m² lie outside the zone's approved boundary (tolerance {tolerance_m2} m²)"},
    "edit.err.geom_overlap": {"zh": "与相邻地块重叠：{neighbours}（容差 {tolerance_m2} m²）",
                              "en": "Overlaps neighbouring parcels: {neighbours} (tolerance {tolerance_m2} m²)"},
    "stage.acceptance": {"zh": "竣工验收", "en": "Acceptance"},
    "stage.production": {"zh": "达产复核", "en": "At production"},
    "stage.periodic": {"zh": "定期评估", "en": "Periodic"},
    "grading.regular": {"zh": "规上企业", "en": "Regular"},
    "grading.small": {"zh": "小微企业", "en": "Small"},
    "grading.startup": {"zh": "初创企业（不评价）", "en": "Start-up (not graded)"},
    "grading.under_construction": {"zh": "在建（不评价）", "en": "Under construction (not graded)"},
    "finding.open": {"zh": "待审核", "en": "Open"},
    "finding.confirmed": {"zh": "已确认", "en": "Confirmed"},
    "finding.dismissed": {"zh": "已驳回", "en": "Dismissed"},
})

# The map page, the parcel detail panel and the dashboards (gisapp.web.pages.map / dashboard);
# rule names and outcomes follow docs/findings.md.
TEXTS.update({
    "nav.map": {"zh": "地图", "en": "Map"},
    "nav.dashboard": {"zh": "园区看板", "en": "Dashboards"},
    "common.yes": {"zh": "是", "en": "Yes"},
    "common.no": {"zh": "否", "en": "No"},
    "common.none": {"zh": "—", "en": "—"},
    "map.search.placeholder": {"zh": "搜索地块编号、园区或企业", "en": "Search parcel code, zone or enterprise"},
    "map.search.button": {"zh": "搜索", "en": "Search"},
    "map.search.none": {"zh": "没有找到“{text}”", "en": "Nothing found for “{text}”"},
    "map.search.too_short": {"zh": "请输入至少 2 个字符", "en": "Type at least 2 characters"},
    "map.search.hit.zones": {"zh": "园区", "en": "Zone"},
    "map.search.hit.parcels": {"zh": "地块", "en": "Parcel"},
    "map.refresh": {"zh": "刷新", "en": "Refresh"},
    # a zone's summary counts what the viewport holds of the zone, not the zone's total
    "map.aggregate.count": {"zh": "视野内 {count} 个", "en": "{count} in view"},
    "map.aggregate.hint": {"zh": "当前比例尺按园区汇总显示；放大到 {zoom} 级以上显示单个要素",
                           "en": "Shown per zone at this scale; zoom to level {zoom} or closer for single features"},
    "detail.open_page": {"zh": "打开地块页面（查看与编辑）", "en": "Open the parcel page (view and edit)"},
    "detail.attributes": {"zh": "基本信息", "en": "Attributes"},
    "detail.history": {"zh": "状态历史", "en": "Status history"},
    "detail.no_history": {"zh": "无状态变更记录", "en": "No status changes recorded"},
    "detail.grants": {"zh": "供地与履约", "en": "Grant and performance"},
    "detail.no_grants": {"zh": "未供地", "en": "Not supplied"},
    "detail.requirements": {"zh": "履约指标要求", "en": "Performance requirements"},
    "detail.review": {"zh": "履约评价结论", "en": "Review result"},
    "detail.not_reviewed": {"zh": "尚无评价结论", "en": "No review result yet"},
    "detail.findings": {"zh": "规则发现（当前）", "en": "Findings (current)"},
    "detail.no_findings": {"zh": "暂无规则发现（规则尚未运行）", "en": "No findings (the rules have not run)"},
    "detail.not_found": {"zh": "没有编号为 {code} 的地块", "en": "There is no parcel with the code {code}"},
    "detail.zone_title": {"zh": "园区：{name}", "en": "Zone: {name}"},
    "detail.zone_dashboard": {"zh": "查看园区看板", "en": "Open the zone dashboard"},
    "detail.aggregate_title": {"zh": "{layer}：{zone} 视野内汇总", "en": "{layer}: {zone}, the part in view"},
    "detail.review_status": {"zh": "审核状态", "en": "Review"},
    "detail.findings_passed": {"zh": "{count} 项符合", "en": "{count} passed"},
    "detail.area": {"zh": "{m2} m² · {ha} 公顷 · {mu} 亩", "en": "{m2} m² · {ha} ha · {mu} mu"},
    "detail.aggregate_total": {"zh": "全园区共 {total} 个", "en": "{total} in the whole zone"},
    "detail.boundaries": {"zh": "批准范围（四至）记录", "en": "Approved boundaries"},
    "detail.boundary_in_force": {"zh": "现行", "en": "in force"},
    "detail.boundary_open": {"zh": "至今", "en": "open"},
    "col.approval_ref": {"zh": "批准文号", "en": "Approval reference"},
    "col.valid_period": {"zh": "有效期", "en": "Valid"},
    "col.boundary_area_ha": {"zh": "面积（公顷）", "en": "Area (ha)"},
    "map.as_of": {"zh": "查看日期", "en": "Map as of"},
    "map.as_of_banner": {"zh": "历史视图：地图显示 {day} 日终时的地块与批准范围",
                         "en": "Past date: the map shows parcels and boundaries as at the end of {day}"},
    "map.as_of_today": {"zh": "回到今天", "en": "Back to today"},
    "map.as_of_skipped": {"zh": "历史视图不显示（只有当前状态）：{layers}",
                          "en": "Not shown for a past date (current state only): {layers}"},
    # the printed map and the parcels export of the map's view (gisapp.web.map_print)
    "map.print.heading": {"zh": "打印/导出", "en": "Print / export"},
    "map.print.link": {"zh": "打印/导出地图", "en": "Print map"},
    "map.print.png": {"zh": "图片（PNG）", "en": "Image (PNG)"},
    "map.print.pdf": {"zh": "PDF 文档", "en": "PDF"},
    "map.print.parcels": {"zh": "导出视图内地块", "en": "Export parcels in view"},
    "map.print.xlsx": {"zh": "Excel 表格", "en": "Excel"},
    "map.print.gpkg": {"zh": "GeoPackage 图层", "en": "GeoPackage"},
    "map.print.title": {"zh": "上海综合保税区土地资源管理 · 地图", "en": "Shanghai Bonded Zones Land Resources · Map"},
    "map.print.layers": {"zh": "图层：{layers}", "en": "Layers: {layers}"},
    "map.print.north": {"zh": "北", "en": "N"},
    "map.print.empty": {"zh": "此范围内没有要素", "en": "No features in this view"},
    "map.print.printed": {"zh": "打印时间：{at}（北京时间）", "en": "Printed {at} (Asia/Shanghai)"},
    "map.print.as_of": {"zh": "；地图日期：{day}", "en": "; map as of {day}"},
    "map.print.extent": {"zh": "范围（EPSG:4490，度）：{bbox}", "en": "Extent (EPSG:4490, degrees): {bbox}"},
    "map.print.truncated": {"zh": "{layer}：要素过多，仅绘制前 {n} 个，请放大地图。",
                            "en": "{layer}: too many features, only the first {n} drawn; zoom in."},
    "map.print.bad_bbox": {"zh": "地图范围（bbox）无效：需要四个数“最小经度,最小纬度,最大经度,最大纬度”（度，EPSG:4490），"
                                 "且最小值小于最大值。收到：{bbox}",
                           "en": "The map extent (bbox) is not valid: it needs four numbers "
                                 "\"min lon,min lat,max lon,max lat\" (degrees, EPSG:4490), each minimum below its "
                                 "maximum. Received: {bbox}"},
    "map.print.bad_layer": {"zh": "没有图层“{layer}”。可用图层：{known}", "en": "There is no layer {layer!r}. Layers: {known}"},
    "map.print.bad_format": {"zh": "没有“{ext}”格式，可用：{known}", "en": "There is no format {ext!r}; formats: {known}"},
    "map.print.bad_as_of": {"zh": "日期 {day} 无效，请用 YYYY-MM-DD。", "en": "The date {day} is not valid; use YYYY-MM-DD."},
    "map.print.too_many": {"zh": "视图内地块超过 {n} 块，请放大地图后再导出。",
                           "en": "The view holds more than {n} parcels; zoom in and export again."},
    "detail.as_of_note": {"zh": "地图显示 {day} 的状态；以下为地块的当前记录",
                          "en": "The map shows {day}; below is the parcel's current record"},
    "detail.more_attributes": {"zh": "更多（信用代码、坐标系、版本）", "en": "More (credit code, CRS, version)"},
    "detail.grant_more": {"zh": "其他合同条款与履约指标要求", "en": "Other contract terms and performance requirements"},
    "attr.code": {"zh": "地块编号", "en": "Parcel code"},
    "attr.zone": {"zh": "所在园区", "en": "Zone"},
    "attr.land_use": {"zh": "用地性质", "en": "Land use"},
    "attr.legacy_land_use_code": {"zh": "原用地代码（GB 50137）", "en": "Legacy code (GB 50137)"},
    "attr.status": {"zh": "状态", "en": "Status"},
    "attr.status_since": {"zh": "状态起始日", "en": "Status since"},
    "attr.area": {"zh": "面积", "en": "Area"},
    "attr.plot_ratio": {"zh": "容积率控制", "en": "Plot ratio (planned)"},
    "attr.floor_area_m2": {"zh": "建筑面积 (m²)", "en": "Floor area (m²)"},
    "attr.enterprise": {"zh": "企业", "en": "Enterprise"},
    "attr.credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "attr.source_crs": {"zh": "来源坐标系", "en": "Source CRS"},
    "attr.is_synthetic": {"zh": "合成数据", "en": "Synthetic"},
    "attr.version": {"zh": "版本", "en": "Version"},
    "attr.updated": {"zh": "最后修改", "en": "Last changed"},
    "grant.contract_no": {"zh": "合同号", "en": "Contract no."},
    "grant.supply_method": {"zh": "供地方式", "en": "Supply method"},
    "grant.announced_on": {"zh": "预公告日期", "en": "Announced on"},
    "grant.granted_on": {"zh": "出让日期", "en": "Granted on"},
    "grant.agreed_start_on": {"zh": "约定动工日期", "en": "Agreed start"},
    "grant.agreed_completion_on": {"zh": "约定竣工日期", "en": "Agreed completion"},
    "grant.term_years": {"zh": "出让年限（年）", "en": "Term (years)"},
    "grant.price_wan": {"zh": "出让价款（万元）", "en": "Price (10k CNY)"},
    "grant.total_investment_wan": {"zh": "约定总投资（万元）", "en": "Total investment (10k CNY)"},
    "grant.is_standardized": {"zh": "标准地", "en": "Standardized grant"},
    "grant.is_major_project": {"zh": "重大项目", "en": "Major project"},
    "supply.grant": {"zh": "出让", "en": "Grant"},
    "supply.allocation": {"zh": "划拨", "en": "Allocation"},
    "supply.lease": {"zh": "租赁", "en": "Lease"},
    "stage.announced": {"zh": "已预公告", "en": "Announced"},
    "stage.granted": {"zh": "已出让", "en": "Granted"},
    "stage.started": {"zh": "已动工", "en": "Started"},
    "stage.completed": {"zh": "已竣工", "en": "Completed"},
    "stage.accepted": {"zh": "已验收", "en": "Accepted"},
    "stage.reviewed": {"zh": "已评价", "en": "Reviewed"},
    "rule.idle_land": {"zh": "闲置土地", "en": "Idle land"},
    "rule.land_inventory": {"zh": "批而未供/供而未用", "en": "Unsupplied / unbuilt land"},
    "rule.per_mu": {"zh": "亩均效益评价", "en": "Per-mu evaluation"},
    "rule.grant_review": {"zh": "标准地履约评价", "en": "Grant performance review"},
    "rule.grant_notice": {"zh": "出让预公告期", "en": "Grant notice period"},
    "rule.grant_term": {"zh": "出让年限", "en": "Grant term"},
    "rule.mixed_use": {"zh": "混合用地", "en": "Mixed use"},
    "rule.green_balance": {"zh": "地块绿地平衡", "en": "Parcel green balance"},
    "rule.green_balance_zone": {"zh": "园区绿地总量平衡", "en": "Zone green balance"},
    "rule.industrial_controls": {"zh": "工业用地控制指标", "en": "Industrial land controls"},
    "rule.quota_balance": {"zh": "能耗与污染物配额", "en": "Energy and pollutant quotas"},
    "rule.zone_performance": {"zh": "园区绩效评估", "en": "Zone performance evaluation"},
    "rule.assessment_coverage": {"zh": "区域评估覆盖", "en": "Regional assessment coverage"},
    "rule.boundary_qa": {"zh": "边界质检", "en": "Boundary checks"},
    "outcome.idle_not_started": {"zh": "疑似闲置：满{idle_years}年未动工",
                                 "en": "Suspected idle: not started {idle_years} after the agreed start"},
    "outcome.idle_stalled": {"zh": "疑似闲置：开发不足且中止满{suspension_years}年",
                             "en": "Suspected idle: under-developed and suspended {suspension_years}"},
    "outcome.exempt": {"zh": "免于认定（政府原因等）", "en": "Exempt (government cause etc.)"},
    "outcome.not_idle": {"zh": "非闲置", "en": "Not idle"},
    "outcome.cannot_evaluate": {"zh": "数据不足无法评价", "en": "Cannot evaluate (data missing)"},
    "outcome.approved_unsupplied": {"zh": "批而未供", "en": "Approved, not supplied"},
    "outcome.supplied_unbuilt": {"zh": "供而未用", "en": "Supplied, not built"},
    # the dashboards' idle classes besides the rule's outcomes: the parcel's status says idle, or a
    # person confirmed the finding (the definition of the idle_land layer, sql/views/0210)
    "outcome.idle_confirmed": {"zh": "闲置（已认定）", "en": "Idle (confirmed)"},
    "outcome.class_a": {"zh": "A 类", "en": "Class A"},
    "outcome.class_b": {"zh": "B 类", "en": "Class B"},
    "outcome.class_c": {"zh": "C 类", "en": "Class C"},
    "outcome.class_d": {"zh": "D 类（低效候选）", "en": "Class D (low-efficiency candidate)"},
    "outcome.not_graded": {"zh": "不参评", "en": "Not graded"},
    "outcome.passed": {"zh": "履约达标", "en": "Requirements met"},
    "outcome.shortfall": {"zh": "履约不达标", "en": "Shortfall"},
    "outcome.not_reviewed": {"zh": "尚未评价", "en": "Not reviewed yet"},
    "outcome.notice_ok": {"zh": "预公告期足够", "en": "Notice period sufficient"},
    "outcome.notice_too_short": {"zh": "预公告期不足", "en": "Notice period too short"},
    "outcome.not_announced": {"zh": "未预公告", "en": "Not announced"},
    "outcome.term_ok": {"zh": "年限合规", "en": "Term as policy"},
    "outcome.major_below_preferred": {"zh": "重大项目低于 {major_preferred_years} 年",
                                      "en": "Major project below {major_preferred_years} years"},
    "outcome.term_above_max": {"zh": "年限超上限", "en": "Term above the maximum"},
    "outcome.terms_within_max": {"zh": "园区出让年限均未超上限", "en": "Zone: no term above the maximum"},
    "outcome.terms_above_max": {"zh": "园区有出让年限超上限", "en": "Zone: terms above the maximum"},
    "outcome.single_use": {"zh": "单一用途", "en": "Single use"},
    "outcome.mixed": {"zh": "混合用地", "en": "Mixed use"},
    "outcome.invalid_shares": {"zh": "占比合计不为 100%", "en": "Shares do not sum to 100%"},
    "outcome.cap_exceeded": {"zh": "配套用途超上限", "en": "Complementary-use cap exceeded"},
    "outcome.surplus": {"zh": "绿地盈余", "en": "Green surplus"},
    "outcome.deficit": {"zh": "绿地缺口", "en": "Green deficit"},
    "outcome.balanced": {"zh": "园区绿地平衡", "en": "Zone balanced"},
    "outcome.short": {"zh": "园区绿地不足", "en": "Zone short of green"},
    "outcome.within_controls": {"zh": "符合控制指标", "en": "Within controls"},
    "outcome.green_above_max": {"zh": "绿地率超上限", "en": "Green ratio above maximum"},
    "outcome.coverage_below_min": {"zh": "建筑密度低于下限", "en": "Coverage below minimum"},
    "outcome.office_above_max": {"zh": "行政办公及生活配套超上限", "en": "Offices and living above maximum"},
    "outcome.within_quota": {"zh": "配额内", "en": "Within quota"},
    "outcome.over_quota_escalated": {"zh": "超配额，已报市统筹", "en": "Over quota, escalated to the city"},
    "outcome.over_quota_not_escalated": {"zh": "超配额，未报市统筹", "en": "Over quota, not escalated"},
    "outcome.rectification": {"zh": "限期整改", "en": "Rectification"},
    "outcome.exit_risk": {"zh": "退出风险", "en": "Exit risk"},
    "outcome.covered": {"zh": "区域评估覆盖", "en": "Covered"},
    "outcome.not_covered": {"zh": "缺区域评估", "en": "Not covered"},
    "outcome.expired": {"zh": "区域评估已过期", "en": "Assessment expired"},
    "outcome.inside": {"zh": "位于批准范围内", "en": "Inside the boundary"},
    "outcome.outside_boundary": {"zh": "超出批准范围", "en": "Outside the boundary"},
    "outcome.overlap": {"zh": "与其他地块重叠", "en": "Overlaps another parcel"},
    "outcome.area_over_approved": {"zh": "用地面积超批准面积", "en": "Used area above approved"},
    "outcome.not_assessed": {"zh": "未运行规则", "en": "Rule not run"},
    "outcome.before_regime": {"zh": "区域评估制度实施前（逐项评估）", "en": "Before the regional-assessment regime"},
    "outcome.area_within_approved": {"zh": "用地面积在批准面积内", "en": "Used area within approved"},
    "outcome.district_mismatch": {"zh": "所在区与边界不符", "en": "Recorded district differs from boundary"},
    "dash.title": {"zh": "园区看板", "en": "Zone dashboards"},
    "dash.zone": {"zh": "园区", "en": "Zone"},
    "dash.all_zones": {"zh": "全部园区", "en": "All zones"},
    "dash.export_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "dash.export_xlsx": {"zh": "导出 Excel", "en": "Export Excel"},
    "dash.empty": {"zh": "暂无数据（规则尚未运行或园区无此类数据）",
                   "en": "No data (the rules have not run, or the zone has none)"},
    "dash.approved_vs_used": {"zh": "批准面积与已用面积", "en": "Approved vs used area"},
    "dash.land_use_mix": {"zh": "用地结构", "en": "Land-use mix"},
    "dash.status_breakdown": {"zh": "地块状态", "en": "Parcel status"},
    "dash.idle_land": {"zh": "闲置与低效存量土地", "en": "Idle and unused land"},
    "dash.per_mu": {"zh": "亩均效益分类", "en": "Per-mu classes"},
    "dash.grants_pipeline": {"zh": "标准地出让进度", "en": "Standardized grants pipeline"},
    "dash.grants_review": {"zh": "出让评价结果", "en": "Grant review results"},
    "dash.green_balance": {"zh": "绿地总量平衡余量", "en": "Green balance margin"},
    "dash.quota_use": {"zh": "能耗与污染物配额使用（按区）", "en": "Energy and pollutant quota use by district"},
    "dash.zone_evaluation": {"zh": "园区绩效评估等级与排名", "en": "Zone evaluation class and rank"},
    "dash.kpi.approved": {"zh": "批准面积", "en": "Approved area"},
    "dash.kpi.used": {"zh": "已用面积", "en": "Used area"},
    "dash.kpi.idle_area": {"zh": "疑似/认定闲置面积", "en": "Idle area (suspected/confirmed)"},
    "dash.kpi.idle_fee": {"zh": "闲置费合计", "en": "Idle-land fees"},
    "dash.series.approved": {"zh": "批准面积 (ha)", "en": "Approved (ha)"},
    "dash.series.used": {"zh": "已用面积 (ha)", "en": "Used (ha)"},
    "dash.series.built": {"zh": "已建成 (ha)", "en": "Built (ha)"},
    "dash.series.quota": {"zh": "配额", "en": "Quota"},
    "dash.series.allocated": {"zh": "已下达", "en": "Allocated on"},
    "dash.series.used_quota": {"zh": "已使用", "en": "Used"},
    "dash.series.escalated": {"zh": "报市统筹", "en": "Escalated to the city"},
    "dash.unit.ha": {"zh": "公顷", "en": "ha"},
    "dash.unit.wan": {"zh": "万元", "en": "10k CNY"},
    "col.zone_code": {"zh": "园区编码", "en": "Zone code"},
    "col.zone_name": {"zh": "园区", "en": "Zone"},
    "col.approved_ha": {"zh": "批准面积 (ha)", "en": "Approved (ha)"},
    "col.approved_is_demo": {"zh": "批准面积为演示值", "en": "Approved area is a demo value"},
    "col.parcel_ha": {"zh": "地块总面积 (ha)", "en": "Parcels (ha)"},
    "col.used_ha": {"zh": "已用面积 (ha)", "en": "Used (ha)"},
    "col.built_ha": {"zh": "已建成 (ha)", "en": "Built (ha)"},
    "col.used_pct": {"zh": "已用占批准 (%)", "en": "Used of approved (%)"},
    "col.category": {"zh": "用地大类", "en": "Category"},
    "col.land_use_code": {"zh": "用地代码", "en": "Land-use code"},
    "col.land_use": {"zh": "用地性质", "en": "Land use"},
    "col.parcels": {"zh": "地块数", "en": "Parcels"},
    "col.area_ha": {"zh": "面积 (ha)", "en": "Area (ha)"},
    "col.area_mu": {"zh": "面积（亩）", "en": "Area (mu)"},
    "col.status": {"zh": "状态", "en": "Status"},
    "col.outcome": {"zh": "结论", "en": "Outcome"},
    "col.rule": {"zh": "规则", "en": "Rule"},
    "col.fee_wan": {"zh": "闲置费（万元）", "en": "Idle fee (10k CNY)"},
    "col.recovery_candidates": {"zh": "可无偿收回", "en": "Recoverable"},
    "col.confirmed": {"zh": "已认定", "en": "Confirmed"},
    "col.stage_order": {"zh": "序号", "en": "Order"},
    "col.stage": {"zh": "阶段", "en": "Stage"},
    "col.grants": {"zh": "出让宗数", "en": "Grants"},
    "col.green_ha": {"zh": "园区绿地 (ha)", "en": "Zone green (ha)"},
    "col.required_ha": {"zh": "应有绿地 (ha)", "en": "Required green (ha)"},
    "col.margin_ha": {"zh": "余量 (ha)", "en": "Margin (ha)"},
    "col.explanation": {"zh": "说明", "en": "Explanation"},
    "col.district_code": {"zh": "区编码", "en": "District code"},
    "col.district": {"zh": "区", "en": "District"},
    "col.year": {"zh": "年度", "en": "Year"},
    "col.resource": {"zh": "资源", "en": "Resource"},
    "col.resource_name": {"zh": "资源名称", "en": "Resource name"},
    "col.unit": {"zh": "单位", "en": "Unit"},
    "col.quota": {"zh": "配额", "en": "Quota"},
    "col.allocated": {"zh": "已下达（园区/项目）", "en": "Allocated to zones / projects"},
    "col.used": {"zh": "已使用", "en": "Used"},
    "col.escalated": {"zh": "报市统筹量", "en": "Escalated"},
    "col.method": {"zh": "评估办法", "en": "Method"},
    "col.score": {"zh": "得分", "en": "Score"},
    "col.rank_national": {"zh": "全国排名", "en": "National rank"},
    "col.rank_regional": {"zh": "区域排名", "en": "Regional rank"},
    "col.changed_on": {"zh": "日期", "en": "Date"},
    "col.from_status": {"zh": "原状态", "en": "From"},
    "col.to_status": {"zh": "新状态", "en": "To"},
    "col.reason": {"zh": "原因", "en": "Reason"},
    "col.changed_by": {"zh": "操作人", "en": "By"},
    "col.indicator": {"zh": "指标", "en": "Indicator"},
    "col.min_value": {"zh": "下限", "en": "Minimum"},
    "col.max_value": {"zh": "上限", "en": "Maximum"},
    "col.actual_value": {"zh": "实际值", "en": "Actual"},
    "col.passed": {"zh": "达标（规则判定）", "en": "Met (rule verdict)"},
})


# What the JSON API, the tiles and the pages answer when a request cannot be served
# (gisapp.web.errors, gisapp.web.edit_api) and the form's refusals of hostile values
# (gisapp.queries.edits.Form).
TEXTS.update({
    "edit.err.bad_char": {"zh": "含有无法保存的字符 {char}，请删除后重试",
                          "en": "Contains a character that cannot be stored ({char}); remove it and try again"},
    "edit.err.not_text": {"zh": "应为文字，收到的是{type}", "en": "Must be text, got {type}"},
    "edit.err.too_large": {"zh": "数值过大：绝对值必须小于 {max}", "en": "The number is too large: it must be less than {max} in size"},
    "edit.err.geom_too_deep": {"zh": "坐标嵌套层级过深（面最多 {max} 层），不是 GeoJSON 面",
                               "en": "The coordinates are nested too deeply (at most {max} levels for a polygon); not a GeoJSON polygon"},
    "error.type.list": {"zh": "列表", "en": "a list"},
    "error.type.object": {"zh": "对象", "en": "an object"},
    "error.type.boolean": {"zh": "真/假值", "en": "true/false"},
    "error.type.number": {"zh": "数字", "en": "a number"},
    "error.type.other": {"zh": "其他类型", "en": "another type"},
    "error.not_json": {"zh": "请以 JSON 对象提交修改（Content-Type: application/json）",
                       "en": "Send the edit as a JSON object (Content-Type: application/json)"},
    "error.json_too_deep": {"zh": "提交的 JSON 嵌套层级过深，无法读取；未保存任何内容",
                            "en": "The JSON sent is nested too deeply to read; nothing was saved"},
    "error.json_not_finite": {"zh": "提交的 JSON 中有数值过大或不是有限数（{value}）；未保存任何内容",
                              "en": "A number in the JSON sent is too large or not finite ({value}); nothing was saved"},
    "error.bad_char_in_request": {"zh": "请求的 {field} 中含有无法处理的字符 {char}",
                                  "en": "The request's {field} contains a character that cannot be used ({char})"},
    "error.unknown_path": {"zh": "没有这个地址：{path}。可用的接口见 /api/layers",
                           "en": "There is nothing at {path}; the layers and their addresses are listed at /api/layers"},
    "error.unknown_edit": {"zh": "未知的修改类型“{kind}”，可用：{known}", "en": "Unknown edit “{kind}”; known: {known}"},
    "error.db_value": {"zh": "数据库不接受提交的某个值：{detail}。未保存任何内容，请检查数值范围和格式",
                       "en": "The database cannot take a value that was sent: {detail}. Nothing was saved; check the sizes and formats of the values"},
    "error.db_limit": {"zh": "提交的内容超出了数据库的处理上限：{detail}。未保存任何内容",
                       "en": "What was sent is beyond what the database can process: {detail}. Nothing was saved"},
    "error.db_down": {"zh": "数据库暂时无法连接，请稍后重试。如果问题持续，请联系管理员",
                      "en": "The database cannot be reached at the moment; please try again shortly. If this persists, tell the administrator"},
    "error.unexpected": {"zh": "服务器内部错误（编号 {error_id}），已记录。请稍后重试；如果问题持续，请将此编号告知管理员",
                         "en": "Something went wrong on the server (error {error_id}); it was logged. Try again; if it happens again, give the administrator this number"},
    "error.http": {"zh": "无法处理该请求（HTTP {code}）：{detail}", "en": "The request cannot be handled (HTTP {code}): {detail}"},
    "error.http.400": {"zh": "请求格式有误", "en": "the request is malformed"},
    "error.http.404": {"zh": "没有这个页面", "en": "there is no such page"},
    "error.http.405": {"zh": "该地址不接受 {method} 请求", "en": "this address does not accept {method} requests"},
    "error.http.413": {"zh": "提交的内容过大", "en": "what was sent is too large"},
    "error.http.415": {"zh": "不支持提交内容的格式", "en": "the format of what was sent is not supported"},
    "error.page_title": {"zh": "出错了", "en": "Something went wrong"},
    "error.page_home": {"zh": "返回地图", "en": "Back to the map"},
})

# The accounts page of bureau admins (gisapp.web.users_page).
TEXTS.update({
    "nav.users": {"zh": "用户管理", "en": "Users"},
    "users.page.title": {"zh": "用户管理", "en": "User accounts"},
    "users.page.note": {"zh": "每项修改都记入审计日志（操作人、时间、内容，不含密码）。停用账户、重设密码或调整园区会立即结束该用户的登录会话。",
                        "en": "Every change is audited (who, when, what; never the password). Disabling an account, a new password "
                              "or new zones end that user's open sessions at once."},
    "users.page.list": {"zh": "账户列表", "en": "Accounts"},
    "users.page.username": {"zh": "用户名", "en": "User name"},
    "users.page.display_name": {"zh": "显示名称", "en": "Display name"},
    "users.page.role": {"zh": "角色", "en": "Role"},
    "users.page.zones": {"zh": "负责园区", "en": "Zones"},
    "users.page.no_zones": {"zh": "全部（按角色）", "en": "All (per role)"},
    "users.page.state": {"zh": "状态", "en": "State"},
    "users.page.active": {"zh": "启用", "en": "Active"},
    "users.page.disabled": {"zh": "已停用", "en": "Disabled"},
    "users.page.last_sign_in": {"zh": "最近登录", "en": "Last sign-in"},
    "users.page.never": {"zh": "未登录过", "en": "Never"},
    "users.page.actions": {"zh": "操作", "en": "Actions"},
    "users.page.disable": {"zh": "停用", "en": "Disable"},
    "users.page.enable": {"zh": "启用", "en": "Enable"},
    "users.page.new_password": {"zh": "新密码", "en": "New password"},
    "users.page.set_password": {"zh": "重设密码", "en": "Reset password"},
    "users.page.set_zones": {"zh": "保存园区", "en": "Save zones"},
    "users.page.add": {"zh": "新增账户", "en": "Add an account"},
    "users.page.password": {"zh": "初始密码", "en": "Initial password"},
    "users.page.submit_add": {"zh": "新增", "en": "Add"},
    "users.page.forbidden": {"zh": "只有规划局管理员可以管理用户账户。", "en": "Only bureau administrators may manage user accounts."},
    "users.page.bad_token": {"zh": "表单已过期，请刷新页面后重试。", "en": "The form has expired; reload the page and try again."},
    "users.page.bad_action": {"zh": "未知的操作。", "en": "Unknown action."},
    "users.page.bad_username": {"zh": "用户名须为 3–40 个字符，只能包含小写字母、数字、“_”“.”“-”。",
                                "en": "A user name has 3-40 characters: a-z, 0-9, '_', '.', '-'."},
    "users.page.short_password": {"zh": "密码至少需要 {n} 个字符。", "en": "A password needs at least {n} characters."},
    "users.page.bad_role": {"zh": "未知的角色。", "en": "Unknown role."},
    "users.page.zones_required": {"zh": "园区编辑须至少负责一个园区。", "en": "A zone editor must be bound to at least one zone."},
    "users.page.zones_not_for_role": {"zh": "只有园区编辑绑定园区；其他角色按角色查看和编辑。",
                                      "en": "Only zone editors are bound to zones; the other roles see and edit per their role."},
    "users.page.not_self": {"zh": "不能停用您当前登录使用的账户。", "en": "You cannot disable the account you are signed in with."},
    "users.page.taken": {"zh": "用户名 {name} 已被使用。", "en": "The user name {name} is taken."},
    "users.page.no_such_user": {"zh": "没有名为 {name} 的用户。", "en": "There is no user named {name}."},
    "users.page.bad_input": {"zh": "数据库未接受该修改：{detail}", "en": "The database did not accept the change: {detail}"},
    "users.page.done.add": {"zh": "已新增账户 {name}。", "en": "Account {name} added."},
    "users.page.done.disable": {"zh": "已停用账户 {name}，其登录会话已结束。", "en": "Account {name} disabled; its sessions have ended."},
    "users.page.done.enable": {"zh": "已启用账户 {name}。", "en": "Account {name} enabled."},
    "users.page.done.password": {"zh": "已为 {name} 设置新密码，其登录会话已结束。",
                                 "en": "New password set for {name}; its sessions have ended."},
    "users.page.done.zones": {"zh": "已更新 {name} 负责的园区，其登录会话已结束。",
                              "en": "Zones of {name} updated; its sessions have ended."},
})

# The land inventories as parcel lists (gisapp.web.inventory_page); the lists' names are the rule's
# outcomes (outcome.approved_unsupplied, outcome.supplied_unbuilt).
TEXTS.update({
    "nav.inventory": {"zh": "存量清单", "en": "Inventories"},
    "inventory.page.title": {"zh": "批而未供与供而未用清单", "en": "Unsupplied and unbuilt land"},
    "inventory.page.note": {"zh": "清单取自“批而未供/供而未用”规则的最新评估结果；天数自起始日期算至评估基准日。",
                            "en": "The lists are the latest assessment of the unsupplied / unbuilt land rule; days count "
                                  "from the start date to the assessment's as-of day."},
    "inventory.page.zone": {"zh": "园区", "en": "Zone"},
    "inventory.page.all_zones": {"zh": "全部园区", "en": "All zones"},
    "inventory.page.show": {"zh": "查看", "en": "Show"},
    "inventory.page.download": {"zh": "下载：", "en": "Download:"},
    "inventory.page.xlsx": {"zh": "Excel 表格", "en": "Excel"},
    "inventory.page.gpkg": {"zh": "GeoPackage 图层", "en": "GeoPackage"},
    "inventory.page.empty": {"zh": "清单中没有地块。", "en": "No parcels on this list."},
    "inventory.page.summary": {"zh": "{zone}：{n} 块，合计 {ha} 公顷（{mu} 亩）", "en": "{zone}: {n} parcels, {ha} ha ({mu} mu) in all"},
    "inventory.page.as_of": {"zh": "，评估基准日 {day}", "en": ", assessed as of {day}"},
    "inventory.page.more": {"zh": "另有 {n} 块未在页面列出，请下载完整清单。", "en": "{n} more parcels are not shown here; download the full list."},
    "inventory.page.unknown_zone": {"zh": "没有代码为 {zone} 的园区，显示全部园区。", "en": "There is no zone with the code {zone}; showing all zones."},
    "inventory.page.not_your_zone": {"zh": "园区 {zone} 不在您负责的范围内。", "en": "The zone {zone} is not one of yours."},
})

# The green-balance what-if (gisapp.web.green_what_if_page); the sentence itself is the rule's
# (gisapp.rules.green_balance.what_if_in_zone).
TEXTS.update({
    "nav.green_what_if": {"zh": "绿地率测算", "en": "Green what-if"},
    "gwi.link": {"zh": "测算新项目对园区绿地率平衡的影响", "en": "Try a new project against the zone's green balance"},
    "gwi.title": {"zh": "绿地率平衡测算", "en": "Green-balance what-if"},
    "gwi.note": {"zh": "按园区总量平衡规则测算：新项目（或改建某一地块）的面积与绿地率对园区绿地率和余量的影响。"
                       "园区目标为规则参数，测算不保存任何数据。",
                 "en": "Uses the zone-level green balance rule: how a new project (or a parcel redeveloped) of a given "
                       "area and green ratio changes the zone's green ratio and margin. The zone target is a rule "
                       "parameter; nothing is saved."},
    "gwi.zone": {"zh": "园区", "en": "Zone"},
    "gwi.parcel": {"zh": "地块编号（可选）", "en": "Parcel code (optional)"},
    "gwi.parcel_hint": {"zh": "留空表示新增用地", "en": "Leave empty for new land"},
    "gwi.area": {"zh": "项目面积（m²）", "en": "Project area (m²)"},
    "gwi.area_hint": {"zh": "选了地块可留空，按地块面积", "en": "With a parcel, empty means its area"},
    "gwi.ratio": {"zh": "项目绿地率（%）", "en": "Project green ratio (%)"},
    "gwi.ratio_hint": {"zh": "例如 12", "en": "e.g. 12"},
    "gwi.industrial": {"zh": "工业项目（提示工业用地绿地率上限）", "en": "Industrial project (note the industrial green cap)"},
    "gwi.submit": {"zh": "测算", "en": "Check"},
    "gwi.result": {"zh": "测算结果", "en": "Result"},
    "gwi.target": {"zh": "园区目标绿地率", "en": "Zone target ratio"},
    "gwi.ratio_before": {"zh": "园区现状绿地率", "en": "Zone green ratio now"},
    "gwi.ratio_after": {"zh": "项目实施后园区绿地率", "en": "Zone green ratio after"},
    "gwi.margin_before": {"zh": "园区现状余量", "en": "Zone margin now"},
    "gwi.margin_after": {"zh": "项目实施后园区余量", "en": "Zone margin after"},
    "gwi.min_ratio": {"zh": "保持平衡所需最低绿地率", "en": "Lowest ratio that keeps the balance"},
    "gwi.none_balances": {"zh": "无（即使 100% 也不能平衡）", "en": "None (not even 100% balances)"},
    "gwi.verdict": {"zh": "结论", "en": "Verdict"},
    "gwi.fits": {"zh": "通过：园区仍可总量平衡", "en": "Pass: the zone stays balanced"},
    "gwi.short": {"zh": "不通过：园区绿地总量不足", "en": "Fail: the zone would be short of green"},
    "gwi.nothing_assessed": {"zh": "无可评估用地", "en": "No land assessed"},
    "gwi.new_land": {"zh": "{zone} 新增用地 {area}", "en": "new land of {area} in {zone}"},
    "gwi.on_parcel": {"zh": "{zone} 地块 {code}（{area}）", "en": "parcel {code} ({area}) in {zone}"},
    "gwi.explanation": {"zh": "说明", "en": "Explanation"},
    "gwi.err.no_parcel": {"zh": "{zone} 没有编号为“{code}”的地块", "en": "{zone} has no parcel “{code}”"},
    "gwi.err.area_or_parcel": {"zh": "请填写面积，或选择一个地块", "en": "Give an area, or pick a parcel"},
    "gwi.err.no_land": {"zh": "无法测算：{zone} 没有可参与总量平衡的其他用地", "en": "Cannot check: {zone} has no other land to balance against"},
})

# The mixed-use pilot badge of the parcel page (gisapp.web.pilot_badge).
TEXTS.update({
    "pilot.badge": {"zh": "混合用地试点", "en": "Mixed-use pilot"},
    "pilot.approval": {"zh": "批准文号：{ref}（{on} 批准）", "en": "Approval: {ref} (approved on {on})"},
    "pilot.no_ref": {"zh": "未登记文号", "en": "no reference recorded"},
    "pilot.shares": {"zh": "各用途建筑面积占比：{shares}", "en": "Floor-area shares: {shares}"},
    "pilot.no_shares": {"zh": "未登记用途占比", "en": "no shares recorded"},
})

# The regional assessments running out soon (gisapp.web.coverage_page).
TEXTS.update({
    "coverage.page.title": {"zh": "即将到期的区域评估", "en": "Regional assessments running out"},
    "coverage.page.days": {"zh": "到期天数以内", "en": "Within days"},
    "coverage.page.show": {"zh": "查询", "en": "Show"},
    "coverage.page.zone": {"zh": "园区", "en": "Zone"},
    "coverage.page.kind": {"zh": "评估类型", "en": "Assessment"},
    "coverage.page.valid_to": {"zh": "有效期至", "en": "Valid until"},
    "coverage.page.days_left": {"zh": "剩余天数", "en": "Days left"},
    "coverage.page.document": {"zh": "文件", "en": "Document"},
    "coverage.page.empty": {"zh": "该期限内没有到期的区域评估", "en": "No regional assessment runs out within that time"},
    "coverage.page.summary": {"zh": "{days} 天内到期的区域评估：{n} 项", "en": "{n} regional assessment(s) run out within {days} days"},
    "coverage.page.bad_days": {"zh": "天数“{days}”无效：请填写 0 到 3650 的整数", "en": "Days “{days}” is not valid: give a whole number from 0 to 3650"},
    "coverage.page.map_note": {"zh": "地图图层“区域评估覆盖”显示各园区今天的覆盖情况。", "en": "The map layer “Regional assessment coverage” shows each zone's coverage today."},
})


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The label ``key`` in ``lang`` (falls back to Chinese), formatted with ``values``.

    Example:
        >>> t("map.layers", "en")
        'Layers'
    """
    entry = TEXTS[key]
    text = entry.get(lang) or entry["zh"]
    if key in PARAM_LABELS:
        values = {**param_values(key, lang), **values}
    return text.format(**values) if values else text


def message(key: str, values: Mapping[str, Any], lang: str = "zh") -> str:
    """The sentence of a message key with its values, as the data layer hands them over: a value
    that is a :class:`gisapp.errors.Term` is shown as its label, a ``{"zh": .., "en": ..}`` dict in
    ``lang``, anything else as it is."""
    shown = {k: (t(v, lang) if isinstance(v, Term) else v.get(lang, v.get("zh")) if isinstance(v, dict) else v)
             for k, v in values.items()}
    return t(key, lang, **shown)


def problem_texts(problems: Mapping[str, Any], lang: str = "zh") -> dict[str, str]:
    """Each field's problem (gisapp.queries.edit_errors.FieldProblem: ``key``, ``values``) as its
    sentence in ``lang``."""
    return {name: message(p.key, p.values, lang) for name, p in problems.items()}

# The import report on the web page (gisapp.io.report.localise): each problem the importer writes,
# "cli" as the command line prints it (the pattern that recognises it, {names} for the parts that
# vary), "en" and "zh" as the web page shows it, with the form's words instead of command-line
# options. A {problem...} part is itself a problem, translated in turn.
_REPAIR_BOX = {"zh": "“自动修复无效几何”", "en": "'Repair invalid geometries'"}
TEXTS.update({
    "import.problem.no_crs": {
        "cli": "the file does not say which coordinate system it uses; give it with --crs (e.g. --crs EPSG:4490, "
               "--crs EPSG:4549, --crs gcj02)",
        "en": "the file does not say which coordinate system it uses; enter it in the CRS field (e.g. EPSG:4490, "
              "EPSG:4549, gcj02)",
        "zh": "文件未说明所用坐标系；请在“坐标系”栏填写（如 EPSG:4490、EPSG:4549、gcj02）"},
    "import.problem.unknown_crs": {
        "cli": "the file declares the CRS {crs}, which is not known (not an EPSG code or a definition PROJ "
               "understands): give the data's real CRS with --crs (e.g. --crs EPSG:4490, --crs EPSG:4549, --crs gcj02)",
        "en": "the file declares the CRS {crs}, which is not known (not an EPSG code or a definition PROJ "
              "understands): enter the data's real CRS in the CRS field (e.g. EPSG:4490, EPSG:4549, gcj02)",
        "zh": "文件声明的坐标系 {crs} 无法识别（不是 EPSG 代码，也不是 PROJ 能理解的定义）：请在“坐标系”栏填写数据实际的坐标系"
              "（如 EPSG:4490、EPSG:4549、gcj02）"},
    "import.problem.crs_conflict": {
        "cli": "the file declares {declared} but --crs says {given}; fix the file's CRS or drop --crs",
        "en": "the file declares {declared} but the CRS field says {given}; fix the file's CRS or empty the CRS field",
        "zh": "文件声明坐标系为 {declared}，但“坐标系”栏填写的是 {given}；请修正文件的坐标系或清空“坐标系”栏"},
    "import.problem.gcj02_pairs": {
        "cli": "looks like GCJ-02: rerun with --crs gcj02 (the features lie ~{d} m from the {what} of the same code "
               "in the database; read as GCJ-02, the Gaode/Tencent offset, they coincide)",
        "en": "looks like GCJ-02: enter gcj02 in the CRS field and submit again (the features lie ~{d} m from the "
              "{what} of the same code in the database; read as GCJ-02, the Gaode/Tencent offset, they coincide)",
        "zh": "坐标疑似 GCJ-02（高德/腾讯偏移）：请在“坐标系”栏填写 gcj02 后重新提交（要素与数据库中同编号的记录相距约 {d} 米；"
              "按 GCJ-02 读取则重合）"},
    "import.problem.gcj02_outside": {
        "cli": "looks like GCJ-02: rerun with --crs gcj02 ({n} of the features lie outside every zone; read as "
               "GCJ-02, the Gaode/Tencent offset, {m} would)",
        "en": "looks like GCJ-02: enter gcj02 in the CRS field and submit again ({n} of the features lie outside every "
              "zone; read as GCJ-02, the Gaode/Tencent offset, {m} would)",
        "zh": "坐标疑似 GCJ-02（高德/腾讯偏移）：请在“坐标系”栏填写 gcj02 后重新提交（{n} 个要素位于所有园区之外；"
              "按 GCJ-02 读取则为 {m}）"},
    "import.problem.invalid": {
        "cli": "invalid geometry: {reason} (rerun with --repair to fix it)",
        "en": "invalid geometry: {reason} (tick 'Repair invalid geometries' and submit again to fix it)",
        "zh": "几何无效：{reason}（勾选“自动修复无效几何”后重新提交可修复）"},
    "import.problem.sliver": {
        "cli": "is a sliver of {area} m², far smaller than any real parcel (the smallest accepted is {min} m²); "
               "remove it or merge it with its neighbour",
        "en": "is a sliver of {area} m², far smaller than any real parcel (the smallest accepted is {min} m²); "
              "remove it or merge it with its neighbour",
        "zh": "是面积仅 {area} 平方米的碎片，远小于任何真实地块（最小为 {min} 平方米）；请删除或并入相邻地块"},
    "import.problem.nan": {
        "cli": "a coordinate is not a number (NaN or infinite); fix the vertex in the file",
        "en": "a coordinate is not a number (NaN or infinite); fix the vertex in the file",
        "zh": "有坐标不是数值（NaN 或无穷大）；请修正文件中的该顶点"},
    "import.problem.no_geometry": {"cli": "has no geometry", "en": "has no geometry", "zh": "没有几何图形"},
    "import.problem.wrong_type": {
        "cli": "is {what}; {kind} need polygons", "en": "is {what}; {kind} need polygons",
        "zh": "几何类型为 {what}；{kind}须为面"},
    "import.problem.dropped_zm": {
        "cli": "dropped the {what}: {kind} are stored in 2D (lon/lat only)",
        "en": "dropped the {what}: {kind} are stored in 2D (lon/lat only)",
        "zh": "已舍弃 {what}：{kind}只存储二维坐标（经纬度）"},
    "import.problem.outside_china": {
        "cli": "lies outside China once read as {crs} (x {x}, y {y}); is the CRS right? {hint}",
        "en": "lies outside China once read as {crs} (x {x}, y {y}); is the CRS right? {hint}",
        "zh": "按 {crs} 读取位于中国境外（x {x}，y {y}）；坐标系是否正确？{hint}"},
    "import.problem.outside_zones": {
        "cli": "lies outside every zone's approved boundary in force (nearest: {zone}, {d} m away)",
        "en": "lies outside every zone's approved boundary in force (nearest: {zone}, {d} m away)",
        "zh": "位于所有园区现行批准边界之外（最近的园区：{zone}，相距 {d} 米）"},
    "import.problem.exists": {
        "cli": "{what} {code} is already in the database (use --update-existing to update it)",
        "en": "{what} {code} is already in the database (tick 'Update existing records' to update it)",
        "zh": "{what} {code} 已在数据库中（如需更新，请勾选“更新已存在的记录”）"},
    "import.problem.repeated": {
        "cli": "{what} {code} appears more than once in the file (also {other})",
        "en": "{what} {code} appears more than once in the file (also {other})",
        "zh": "{what} {code} 在文件中重复出现（另见 {other}）"},
    "import.problem.land_use": {
        "cli": "{code} is neither a code of the national classification (land.land_use_codes) nor a known GB 50137 "
               "code (land.legacy_land_use_codes){hint}",
        "en": "{code} is neither a code of the national classification (land.land_use_codes) nor a known GB 50137 "
              "code (land.legacy_land_use_codes){hint}",
        "zh": "{code} 既不是国家用地用海分类代码，也不是已知的 GB 50137 代码{hint}"},
    "import.problem.required": {"cli": "is empty; a value is required", "en": "is empty; a value is required",
                                "zh": "为空；此项必填"},
    "import.problem.column_missing": {
        "cli": "column missing (accepted headers: {names})", "en": "column missing (accepted headers: {names})",
        "zh": "缺少此列（可用的列名：{names}）"},
    "import.problem.empty": {"cli": "holds no features or rows", "en": "holds no features or rows",
                             "zh": "文件中没有要素或数据行"},
    "import.problem.stated_area": {
        "cli": "the file states {given} m² but the geometry measures {measured} m² on the ellipsoid ({pct}; more "
               "than {tol}% apart): is the geometry or the figure wrong?",
        "en": "the file states {given} m² but the geometry measures {measured} m² on the ellipsoid ({pct}; more "
              "than {tol}% apart): is the geometry or the figure wrong?",
        "zh": "文件填写面积 {given} 平方米，而几何图形的椭球面积为 {measured} 平方米（相差 {pct}，超过 {tol}%）："
              "几何图形或数字有误？"},
    "import.problem.impossible": {
        "cli": "{problem} (not imported, but no such value is possible: are the file's columns what their headers say?)",
        "en": "{problem} (not imported, but no such value is possible: are the file's columns what their headers say?)",
        "zh": "{problem}（此列不导入，但这样的值不可能出现：文件各列是否与列名相符？）"},
    "import.problem.not_a_field": {
        "cli": "not imported: not a field of {kind}{hint}; its values are left out",
        "en": "not imported: not a field of {kind}{hint}; its values are left out",
        "zh": "未导入：不是{kind}的字段{hint}；其值不导入"},
    "import.problem.to_metrics": {
        "cli": "not imported: an enterprise's annual figure: import it with `gisapp import metrics` (one row per "
               "parcel and year)",
        "en": "not imported: an enterprise's annual figure: import it on this page as 'Enterprise annual metrics' "
              "(one row per parcel and year)",
        "zh": "未导入：企业年度指标，请在本页选择“企业年度指标”导入（每个地块每年一行）"},
    "import.problem.to_parcels": {
        "cli": "not imported: a parcel's field: parcels are imported with `gisapp import parcels`",
        "en": "not imported: a parcel's field: import parcels on this page as 'Parcels'",
        "zh": "未导入：地块的字段，请在本页选择“地块”导入"},
    "import.problem.green": {
        "cli": "not imported: green space is recorded per measurement on the parcel's page (绿地), not by file import",
        "en": "not imported: green space is recorded per measurement on the parcel's page (绿地), not by file import",
        "zh": "未导入：绿地面积在地块页面按每次测量填写（绿地），不通过文件导入"},
    "import.problem.computed_area": {
        "cli": "not imported: computed from the geometry on the ellipsoid; the file's value is compared with it",
        "en": "not imported: computed from the geometry on the ellipsoid; the file's value is compared with it",
        "zh": "未导入：面积由几何图形按椭球计算；文件中的数值仅用于比对"},
    "import.problem.kept_by_db": {
        "cli": "not imported: kept by the database (ids, versions, who changed a row when)",
        "en": "not imported: kept by the database (ids, versions, who changed a row when)",
        "zh": "未导入：由数据库维护（编号、版本、修改人与时间）"},
    "import.problem.label": {
        "cli": "not imported: a label the database looks up from {code}",
        "en": "not imported: a label the database looks up from {code}",
        "zh": "未导入：名称由数据库根据 {code} 查得"},
    "import.problem.cut_header": {
        "cli": "not imported: the Shapefile format cut this header to 10 characters and it could be any of {fields}; "
               "name the column in full (or export with a fields.csv)",
        "en": "not imported: the Shapefile format cut this header to 10 characters and it could be any of {fields}; "
              "name the column in full (or export with a fields.csv)",
        "zh": "未导入：Shapefile 格式把列名截为 10 个字符，可能是 {fields} 中的任一个；请写全列名（或附 fields.csv）"},
    "import.problem.encoding_found": {
        "cli": "text read as {encoding}: the Shapefile names no encoding (no .cpg file, no code page) and its text is "
               "valid {encoding2} (give --encoding to read it otherwise)",
        "en": "text read as {encoding}: the Shapefile names no encoding (no .cpg file, no code page) and its text is "
              "valid {encoding2} (fill in the encoding field to read it otherwise)",
        "zh": "文本按 {encoding} 读取：该 Shapefile 未注明编码（无 .cpg 文件、无代码页），其文本是有效的 {encoding2}"
              "（如需按其他编码读取，请填写“编码”栏）"},
    "import.problem.converted": {
        "cli": "coordinates converted from {a} to {b}", "en": "coordinates converted from {a} to {b}",
        "zh": "坐标已由 {a} 转换为 {b}"},
    "import.problem.control": {
        "cli": "contains a control character or line break: {value}",
        "en": "contains a control character or line break: {value}", "zh": "含有控制字符或换行：{value}"},
    "import.problem.formula": {
        "cli": "starts like a spreadsheet formula (=, +, -, @), which is not accepted: {value}",
        "en": "starts like a spreadsheet formula (=, +, -, @), which is not accepted: {value}",
        "zh": "以电子表格公式开头（=、+、-、@），不予接受：{value}"},
    "import.problem.markup": {
        "cli": "contains markup or script (<...>, javascript:), which is not accepted: {value}",
        "en": "contains markup or script (<...>, javascript:), which is not accepted: {value}",
        "zh": "含有标记或脚本（<...>、javascript:），不予接受：{value}"},
    "import.problem.too_long": {
        "cli": "longer than {n} characters ({m})", "en": "longer than {n} characters ({m})",
        "zh": "超过 {n} 个字符（{m}）"},
    "import.problem.bad_code": {
        "cli": "{value} is not a valid code ({allowed})", "en": "{value} is not a valid code ({allowed})",
        "zh": "{value} 不是有效的编码（{allowed}）"},
    "import.problem.below": {
        "cli": "{value} is below the allowed minimum {m}", "en": "{value} is below the allowed minimum {m}",
        "zh": "{value} 低于允许的最小值 {m}"},
    "import.problem.above": {
        "cli": "{value} is above the allowed maximum {m}", "en": "{value} is above the allowed maximum {m}",
        "zh": "{value} 高于允许的最大值 {m}"},
    "import.problem.not_number": {"cli": "{value} is not a number", "en": "{value} is not a number",
                                  "zh": "{value} 不是数值"},
    # command-line options in problems no pattern above covers, and the summary line
    "import.flag.--repair": {"en": _REPAIR_BOX["en"], "zh": _REPAIR_BOX["zh"]},
    "import.flag.--update-existing": {"en": "'Update existing records'", "zh": "“更新已存在的记录”"},
    "import.flag.--crs": {"en": "the CRS field", "zh": "“坐标系”栏"},
    "import.flag.--encoding": {"en": "the encoding field", "zh": "“编码”栏"},
    "import.flag.--layer": {"en": "the layer field", "zh": "“图层”栏"},
    "import.summary": {"en": "{file}: {errors} error(s), {warnings} warning(s)", "zh": "{file}：错误 {errors}，警告 {warnings}"},
    "import.summary.refused": {"en": "nothing was written", "zh": "未写入任何数据"},
    "import.summary.dry_run": {"en": "dry run, nothing written", "zh": "试运行，未写入"},
    "import.summary.more": {"en": "… and {n} more lines: correct the lines above and submit the file again to "
                                  "see the rest", "zh": "……另有 {n} 行未列出：修正以上问题后重新提交文件可查看其余问题"},
    "import.severity.error": {"en": "error", "zh": "错误"},
    "import.severity.warning": {"en": "warning", "zh": "警告"},
    "import.severity.info": {"en": "info", "zh": "提示"},
    # the import page (gisapp.web.import_page): its form, refusals, and the report's places and summary
    "import.page.title": {"zh": "数据导入", "en": "Import data"},
    "import.page.note": {"zh": "导入为全有或全无：文件有任何错误都不会写入数据库。演示数据为合成数据。",
                         "en": "Imports are all or nothing: a file with any error writes nothing. Demo data is synthetic."},
    "import.page.kind": {"zh": "数据类型", "en": "What the file holds"},
    "import.page.kind.parcels": {"zh": "地块", "en": "Parcels"},
    "import.page.kind.zones": {"zh": "园区边界", "en": "Zone boundaries"},
    "import.page.kind.metrics": {"zh": "企业年度指标", "en": "Enterprise annual metrics"},
    "import.page.file": {"zh": "文件", "en": "File"},
    "import.page.crs": {"zh": "坐标系（文件未注明时填写，如 EPSG:4549、gcj02）",
                        "en": "CRS (when the file names none, e.g. EPSG:4549, gcj02)"},
    "import.page.encoding": {"zh": "编码（文件未注明时填写，如 gb18030）",
                             "en": "Encoding (when the file names none, e.g. gb18030)"},
    "import.page.layer": {"zh": "图层（文件含多个图层或工作表时填写）",
                          "en": "Layer (when the file holds several layers or sheets)"},
    "import.page.dry_run": {"zh": "仅校验，不写入", "en": "Validate only, write nothing"},
    "import.page.repair": {"zh": "自动修复无效几何", "en": "Repair invalid geometries"},
    "import.page.update_existing": {"zh": "更新已存在的记录", "en": "Update existing records"},
    "import.page.submit": {"zh": "提交", "en": "Submit"},
    "import.page.forbidden": {"zh": "只有规划局管理员可以导入数据。", "en": "Only bureau administrators may import data."},
    "import.page.no_file": {"zh": "请选择要导入的文件。", "en": "Choose a file to import."},
    "import.page.bad_token": {"zh": "表单已过期，请刷新页面后重试。", "en": "The form has expired; reload the page and try again."},
    "import.page.bad_type": {"zh": "不支持的文件类型（可导入：{suffixes}）。", "en": "Unsupported file type (accepted: {suffixes})."},
    "import.page.too_big": {"zh": "文件超过 {mb} MB 的上限。", "en": "The file is larger than the {mb} MB limit."},
    "import.page.where": {"zh": "位置", "en": "Where"},
    "import.page.field": {"zh": "字段", "en": "Field"},
    "import.page.problem": {"zh": "问题", "en": "Problem"},
    "import.page.severity": {"zh": "级别", "en": "Severity"},
    "import.where.file": {"zh": "整个文件", "en": "whole file"},
    "import.where.feature": {"zh": "要素 {id}", "en": "feature {id}"},
    "import.where.row": {"zh": "第 {id} 行", "en": "row {id}"},
    "import.where.code": {"zh": "（编号 {code}）", "en": " (code {code})"},
    "import.wrote": {"zh": "{file}：导入成功，新增 {inserted}，更新 {updated}（导入批次 #{import_id}）",
                     "en": "{file}: imported, {inserted} new, {updated} updated (import #{import_id})"},
    "nav.import": {"zh": "数据导入", "en": "Import data"},
    # who changed a record, when it is no person: the tables' owner (gisapp.web.components.editor)
    "editor.demo_load": {"zh": "系统（演示数据加载）", "en": "system (demo data load)"},
    "editor.system": {"zh": "系统（数据库维护）", "en": "system (database maintenance)"},
    # a stale edit on the parcel page: the other person's change, field by field
    "edit.conflict.theirs": {"zh": "对方修改后的值：", "en": "What they changed:"},
    "edit.conflict.reload": {"zh": "载入当前值重新编辑", "en": "Load the current values and edit again"},
})

# Codes the database keeps in reference tables and coded columns, as the pages show them
# (statuses, land-use categories, units, quota resources and requests, evaluation methods,
# idle-land exemption reasons) and the names of the change log (tables, actions, columns).
TEXTS.update({
    "status.approved_unsupplied": {"zh": "批而未供", "en": "Approved, not supplied"},
    "status.granted_unbuilt": {"zh": "供而未用", "en": "Supplied, not built"},
    "status.under_construction": {"zh": "在建", "en": "Under construction"},
    "status.completed": {"zh": "已竣工", "en": "Completed"},
    "status.in_production": {"zh": "已投产", "en": "In production"},
    "status.idle": {"zh": "闲置（已认定）", "en": "Idle (confirmed)"},
    "status.low_efficiency": {"zh": "低效（已认定）", "en": "Low-efficiency (confirmed)"},
    "status.in_disposal": {"zh": "处置中", "en": "In disposal"},
    "status.reclaimed": {"zh": "已收回", "en": "Reclaimed"},
    "status.transferred": {"zh": "已转让/转租", "en": "Transferred / sublet"},
    "status.exited": {"zh": "已退出", "en": "Exited"},
    "category.residential": {"zh": "居住用地", "en": "Residential"},
    "category.public": {"zh": "公共管理与公共服务用地", "en": "Public administration and services"},
    "category.commercial": {"zh": "商业服务业用地", "en": "Commercial"},
    "category.industrial": {"zh": "工业用地", "en": "Industrial"},
    "category.logistics": {"zh": "物流仓储用地", "en": "Logistics and warehousing"},
    "category.transport": {"zh": "交通运输用地", "en": "Transport"},
    "category.utility": {"zh": "公用设施用地", "en": "Utilities"},
    "category.green": {"zh": "绿地与开敞空间用地", "en": "Green and open space"},
    "category.reserve": {"zh": "留白用地", "en": "Reserved land"},
    "category.research": {"zh": "科研用地", "en": "Research"},
    "category.other": {"zh": "其他用地", "en": "Other"},
    "unit.tce": {"zh": "吨标准煤", "en": "tce"},
    "unit.t/yr": {"zh": "吨/年", "en": "t/yr"},
    "unit.ha": {"zh": "公顷", "en": "ha"},
    "unit.万元/亩": {"zh": "万元/亩", "en": "10k CNY/mu"},
    "unit.tce/万元": {"zh": "吨标准煤/万元", "en": "tce/10k CNY"},
    "unit.t/万元": {"zh": "吨/万元", "en": "t/10k CNY"},
    "unit.%": {"zh": "%", "en": "%"},
    "resource.energy": {"zh": "能耗", "en": "Energy"},
    "resource.cod": {"zh": "化学需氧量", "en": "COD"},
    "resource.nh3n": {"zh": "氨氮", "en": "NH3-N"},
    "resource.so2": {"zh": "二氧化硫", "en": "SO2"},
    "resource.nox": {"zh": "氮氧化物", "en": "NOx"},
    "resource.vocs": {"zh": "挥发性有机物", "en": "VOCs"},
    "resource.construction_land": {"zh": "用地指标", "en": "Construction land"},
    "quota_request.pending": {"zh": "待办理", "en": "Pending"},
    "quota_request.granted": {"zh": "已批准", "en": "Granted"},
    "quota_request.escalated": {"zh": "已报市统筹", "en": "Escalated to the city"},
    "quota_request.refused": {"zh": "不予批准", "en": "Refused"},
    "method.2020_trial": {"zh": "综合保税区发展绩效评估办法（试行）", "en": "Zone performance evaluation (trial)"},
    "method.2024_revised": {"zh": "综合保税区发展绩效评估办法（修订）", "en": "Zone performance evaluation (revised)"},
    "exempt_reason.land_not_delivered": {"zh": "未按约定交付土地", "en": "Land not delivered as agreed"},
    "exempt_reason.plan_revision": {"zh": "规划调整", "en": "Plan revision"},
    "exempt_reason.state_policy": {"zh": "国家政策调整", "en": "New state policy"},
    "exempt_reason.petition": {"zh": "信访未决", "en": "Unresolved petition"},
    "exempt_reason.military_relic": {"zh": "军事管制、文物保护", "en": "Military or cultural-relic control"},
    "exempt_reason.government_act": {"zh": "其他政府行为", "en": "Other government act"},
    "exempt_reason.force_majeure": {"zh": "不可抗力", "en": "Force majeure"},
    "audit.action.INSERT": {"zh": "新增", "en": "Added"},
    "audit.action.UPDATE": {"zh": "修改", "en": "Changed"},
    "audit.action.DELETE": {"zh": "删除", "en": "Deleted"},
    "audit.action.BULK_LOAD": {"zh": "批量导入", "en": "Bulk load"},
    "audit.action.TRUNCATE": {"zh": "清空", "en": "Emptied"},
    "audit.table.parcels": {"zh": "地块", "en": "Parcel"},
    "audit.table.parcel_status_history": {"zh": "状态历史", "en": "Status history"},
    "audit.table.land_grants": {"zh": "出让记录", "en": "Grant"},
    "audit.table.grant_requirements": {"zh": "履约指标要求", "en": "Performance requirement"},
    "audit.table.grant_reviews": {"zh": "履约核验", "en": "Performance review"},
    "audit.table.construction_progress": {"zh": "建设进度", "en": "Construction progress"},
    "audit.table.construction_suspensions": {"zh": "中止开发", "en": "Suspension of development"},
    "audit.table.enterprise_metrics": {"zh": "年度经营指标", "en": "Annual metrics"},
    "audit.table.mixed_use_components": {"zh": "混合用地构成", "en": "Mixed-use share"},
    "audit.table.green_areas": {"zh": "绿地面积", "en": "Green area"},
    "audit.table.quota_requests": {"zh": "额度申请", "en": "Quota request"},
    "audit.table.idle_exemptions": {"zh": "闲置认定豁免", "en": "Idle-land exemption"},
    "audit.table.findings": {"zh": "规则发现", "en": "Finding"},
    "field.actual_value": {"zh": "实际值", "en": "Actual value"},
    "field.agreed_start_on": {"zh": "约定动工日期", "en": "Agreed start"},
    "field.agreed_completion_on": {"zh": "约定竣工日期", "en": "Agreed completion"},
    "field.announced_on": {"zh": "预公告日期", "en": "Announced on"},
    "field.delivery_due_on": {"zh": "约定交地日期", "en": "Delivery due"},
    "field.delivered_on": {"zh": "实际交地日期", "en": "Delivered on"},
    "field.decided_on": {"zh": "办理日期", "en": "Decided on"},
    "field.reviewed_on": {"zh": "核验日期", "en": "Reviewed on"},
    "field.from_on": {"zh": "起始日期", "en": "From"},
    "field.to_on": {"zh": "截止日期", "en": "To"},
    "field.reason_code": {"zh": "豁免原因", "en": "Exemption reason"},
    "field.supply_method": {"zh": "供地方式", "en": "Supply method"},
    "field.is_major_project": {"zh": "重大项目", "en": "Major project"},
    "field.is_synthetic": {"zh": "合成数据", "en": "Synthetic"},
    "field.land_use_code": {"zh": "用地代码", "en": "Land-use code"},
    "field.legacy_land_use_code": {"zh": "原用地代码（GB 50137）", "en": "Legacy code (GB 50137)"},
    "field.plot_ratio_min": {"zh": "容积率下限", "en": "Plot ratio, minimum"},
    "field.plot_ratio_max": {"zh": "容积率上限", "en": "Plot ratio, maximum"},
    "field.floor_area_m2": {"zh": "建筑面积（m²）", "en": "Floor area (m²)"},
    "field.floor_share_pct": {"zh": "建筑面积占比（%）", "en": "Floor-area share (%)"},
    "field.building_footprint_m2": {"zh": "建筑基底面积（m²）", "en": "Building footprint (m²)"},
    "field.office_living_area_m2": {"zh": "行政办公及生活配套面积（m²）", "en": "Offices and living (m²)"},
    "field.source_crs": {"zh": "来源坐标系", "en": "Source CRS"},
    "field.enterprise_id": {"zh": "企业", "en": "Enterprise"},
    "field.grant_id": {"zh": "出让记录", "en": "Grant"},
    "field.parcel_id": {"zh": "地块", "en": "Parcel"},
    "field.zone_id": {"zh": "园区", "en": "Zone"},
    "field.industry": {"zh": "行业", "en": "Industry"},
    "field.review_status": {"zh": "审核状态", "en": "Review"},
    "field.review_reason": {"zh": "审核理由", "en": "Review reason"},
    "field.reviewed_by": {"zh": "审核人", "en": "Reviewed by"},
    "field.reviewed_at": {"zh": "审核时间", "en": "Reviewed at"},
    "field.recorded_at": {"zh": "记录时间", "en": "Recorded at"},
    "field.resumed_on": {"zh": "恢复开发日期", "en": "Resumed on"},
    "field.suspended_on": {"zh": "中止开发日期", "en": "Suspended on"},
    "dash.series.idle_confirmed": {"zh": "闲置（已认定）", "en": "Idle (confirmed)"},
    "dash.quota_years": {"zh": "{year} 年", "en": "{year}"},
    "col.method_code": {"zh": "评估办法代码", "en": "Method code"},
})

#: Labels that state a rule's parameter, filled from the parameter's default by :func:`t`: the
#: label key, the rule, and for each placeholder the parameter and how it reads ("years": a
#: number of full years, "number": the number as it is). A new default changes the label.
PARAM_LABELS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = dict([  # not a literal: keys once
    ("outcome.idle_not_started", ("idle_land", {"idle_years": ("idle_years", "years")})),
    ("outcome.idle_stalled", ("idle_land", {"suspension_years": ("suspension_years", "years")})),
    ("outcome.major_below_preferred", ("grant_term", {"major_preferred_years": ("major_preferred_years", "number")})),
])
_ZH_NUMERALS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}


def _read_as(value: object, kind: str, lang: str) -> str:
    number = f"{value:g}" if isinstance(value, (int, float)) else str(value)
    if kind != "years":
        return number
    if lang == "zh":
        return _ZH_NUMERALS.get(value, f" {number} ") if isinstance(value, int) else f" {number} "
    return "one year" if value == 1 else f"{number} years"


def param_values(key: str, lang: str) -> dict[str, str]:
    """The placeholders of a parameter-stating label, from the rule's parameter defaults."""
    from gisapp.rules.registry import all_specs  # the rules read this module: import at call time

    rule, fields = PARAM_LABELS[key]
    spec = next(s for s in all_specs() if s.name == rule)
    return {name: _read_as(spec.param(param).default, kind, lang) for name, (param, kind) in fields.items()}


def label(prefix: str, code: object, lang: str = "zh") -> str:
    """The label of the code ``code`` of a vocabulary (``prefix``), or the code itself when the
    vocabulary has no label for it (tests/browser/test_no_raw_codes.py finds those on the pages).

    Example:
        >>> label("status", "granted_unbuilt", "zh")
        '供而未用'
    """
    key = f"{prefix}.{code}"
    return t(key, lang) if key in TEXTS else str(code)
