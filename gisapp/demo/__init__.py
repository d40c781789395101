"""Synthetic demo data: the zones of docs/policy.md §3 at their approximate places, with parcels and
records chosen so that every rule has true positives and true negatives. Nothing here is real."""

import datetime as dt

#: Fixed reference date of the demo scenarios (not "today", so the data is deterministic).
DEMO_AS_OF = dt.date(2026, 6, 30)
SYNTHETIC_NOTE_ZH = "合成演示数据：边界、地块与企业均为虚构，仅供演示"
SYNTHETIC_NOTE_EN = "Synthetic demo data: boundaries, parcels and enterprises are invented, for demonstration only"
