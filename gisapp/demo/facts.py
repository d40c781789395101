"""Facts for the demo (docs/policy.md §3): districts, zones, approval dates, approved areas, points.

Points are approximate gate locations (WGS84, ±0.01°), not centroids. Where no approved area
was found the zone gets a plausible demo value and ``area_is_demo`` is set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gisapp.demo.districts import district_table

#: Shanghai's 16 districts (code, name_zh, name_en), 310101 黄浦区 … 310151 崇明区: the rows of the
#: vendored boundary file (gisapp/data/districts), so names and boundaries cannot drift apart
DISTRICTS = [tuple(r) for r in district_table()[["code", "name_zh", "name_en"]].itertuples(index=False)]
PUDONG, MINHANG, JIADING, SONGJIANG, QINGPU, FENGXIAN = "310115", "310112", "310114", "310117", "310118", "310120"


@dataclass(frozen=True)
class ZonePart:
    lon: float
    lat: float
    share: float  # share of the zone's approved area in this part
    name_zh: str = ""
    #: the part lies outside Shanghai's districts (小洋山 belongs to Zhejiang's 嵊泗县 though the
    #: Yangshan zone covers it): not counted when the zone is checked against its district
    outside_shanghai: bool = False


@dataclass(frozen=True)
class ZoneFact:
    code: str
    prefix: str  # parcel code prefix
    name_zh: str
    name_en: str
    district: str
    kind: str
    approved_on: dt.date | None
    area_km2: float
    area_is_demo: bool
    parts: tuple[ZonePart, ...]
    note: str = ""
    # an earlier approved boundary: (valid_from, share of today's area), e.g. before an expansion
    earlier: tuple[dt.date, float] | None = None


ZONES: list[ZoneFact] = [
    ZoneFact("waigaoqiao_ftz", "WGQ", "外高桥保税区", "Waigaoqiao Free Trade Zone", PUDONG,
             "free_trade_zone", dt.date(1990, 6, 1), 10.0, False, (ZonePart(121.60, 31.32, 1.0),),
             "保税区，参照综合保税区政策执行"),
    ZoneFact("waigaoqiao_port", "WGP", "外高桥港综合保税区", "Waigaoqiao Port Comprehensive Bonded Zone",
             PUDONG, "comprehensive_bonded_zone", dt.date(2004, 4, 15), 1.42, True,
             (ZonePart(121.553, 31.372, 1.0),), "批准面积未查到，取绿地规划范围 1.42 km² 作演示值"),
    ZoneFact("pudong_airport", "PDA", "浦东机场综合保税区", "Pudong Airport Comprehensive Bonded Zone",
             PUDONG, "comprehensive_bonded_zone", dt.date(2009, 7, 3), 3.59, False,
             (ZonePart(121.776, 31.135, 1.0),)),
    ZoneFact("yangshan", "YSS", "洋山特殊综合保税区", "Yangshan Special Comprehensive Bonded Zone",
             PUDONG, "special_comprehensive_bonded_zone", dt.date(2020, 1, 17), 25.31 + 28.83, False,
             (ZonePart(121.874, 30.876, 0.62, "芦潮港区域"), ZonePart(122.05, 30.64, 0.18, "小洋山岛区域", outside_shanghai=True),
              ZonePart(121.850, 31.085, 0.20, "浦东机场南区域")),
             "2020 年批准 25.31 km²，2023 年扩区 28.83 km²（演示边界为合成形状）",
             earlier=(dt.date(2020, 1, 17), 25.31 / (25.31 + 28.83))),
    ZoneFact("jinqiao", "JQZ", "金桥综合保税区", "Jinqiao Comprehensive Bonded Zone", PUDONG,
             "comprehensive_bonded_zone", dt.date(2018, 11, 1), 2.2, True, (ZonePart(121.674, 31.226, 1.0),),
             "批准面积未查到，2.2 km² 为演示值"),
    ZoneFact("songjiang", "SJZ", "松江综合保税区", "Songjiang Comprehensive Bonded Zone", SONGJIANG,
             "comprehensive_bonded_zone", dt.date(2018, 9, 1), 5.96, False,
             (ZonePart(121.287, 31.011, 0.5, "A 区"), ZonePart(121.166, 31.003, 0.5, "B 区"))),
    ZoneFact("caohejing", "CHJ", "漕河泾综合保税区", "Caohejing Comprehensive Bonded Zone", MINHANG,
             "comprehensive_bonded_zone", dt.date(2019, 3, 1), 1.6, True, (ZonePart(121.501, 31.105, 1.0),),
             "批准面积未查到，1.6 km² 为演示值"),
    ZoneFact("fengxian", "FXZ", "奉贤综合保税区", "Fengxian Comprehensive Bonded Zone", FENGXIAN,
             "comprehensive_bonded_zone", dt.date(2019, 6, 1), 1.9, True, (ZonePart(121.428, 30.955, 1.0),),
             "批准面积未查到，1.9 km² 为演示值"),
    ZoneFact("qingpu", "QPZ", "青浦综合保税区", "Qingpu Comprehensive Bonded Zone", QINGPU,
             "comprehensive_bonded_zone", None, 2.1, True, (ZonePart(121.147, 31.189, 1.0),),
             "批准日期与面积未查到，2.1 km² 为演示值"),
    ZoneFact("jiading", "JDZ", "嘉定综合保税区", "Jiading Comprehensive Bonded Zone", JIADING,
             "comprehensive_bonded_zone", None, 1.5, True, (ZonePart(121.165, 31.399, 1.0),),
             "批准日期与面积未查到，1.5 km² 为演示值"),
]

#: The demo's designated scenarios (see records.py): who is short of green, who is over quota.
GREEN_SHORT_ZONE = "jiading"
ESCALATED_DISTRICT = SONGJIANG        # over its energy quota, escalated to the city as required
UNESCALATED_DISTRICT = FENGXIAN       # over its energy quota with no escalation record (a finding)
#: a key project in Yangshan needs more construction land (用地指标) than Pudong holds in 2026: escalated
LAND_ESCALATED_DISTRICT = PUDONG
EXPIRED_ASSESSMENT_ZONE = "fengxian"  # environment assessment expired
MISSING_ASSESSMENT_ZONE = "qingpu"    # never had a flood assessment
EXPIRING_ASSESSMENT_ZONE = "jiading"  # water resources assessment runs out in March 2027 (the /coverage list)
