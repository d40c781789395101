"""How a document writes dates, money and areas: as Chinese official documents do.

Dates follow GB/T 9704-2012 7.3.5.1 (the year in full, month and day without a leading zero:
``2026年3月2日``); sums in 万元 with two decimals and, for a decision's amount, the amount in
capital numerals as payment documents write it (《支付结算办法》: 整 after 元 or 角, 零 for skipped
places); areas in square metres with mu (亩, 1 亩 = 10000/15 m²) and hectares.

Example:
    >>> import datetime as dt
    >>> cn_date(dt.date(2026, 3, 2)), wan(310.44), yuan_upper(wan_to_yuan(310.44))
    ('2026年3月2日', '310.44万元', '人民币叁佰壹拾万肆仟肆佰元整')
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

M2_PER_MU = Decimal(10000) / Decimal(15)
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")
CENT = Decimal("0.01")


def cn_date(day: dt.date | None, missing: str = "—") -> str:
    """``2026年3月2日`` (GB/T 9704-2012); ``missing`` for no date."""
    if day is None:
        return missing
    return f"{day.year}年{day.month}月{day.day}日"


def _decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def number(value: object, places: int = 2) -> str:
    """``1,552.22``: thousands separated, ``places`` decimals, rounded half up."""
    q = Decimal(1).scaleb(-places) if places else Decimal(1)
    return f"{_decimal(value).quantize(q, rounding=ROUND_HALF_UP):,.{places}f}"


def wan(value: object | None, missing: str = "—") -> str:
    """A sum in 万元: ``1,552.22万元``."""
    return missing if value is None else f"{number(value)}万元"


def wan_to_yuan(value: object) -> Decimal:
    """万元 to 元, to the fen."""
    return (_decimal(value) * 10000).quantize(CENT, rounding=ROUND_HALF_UP)


def _group(n: int) -> str:
    """0 < n < 10000 in capital numerals, inner zeros read once (1001: 壹仟零壹)."""
    out, zero = [], False
    for i, d in enumerate(f"{n:04d}"):
        d = int(d)
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[d] + _PLACES[3 - i])
    return "".join(out)


def yuan_upper(amount: object, prefix: str = "人民币") -> str:
    """An amount of yuan in capital numerals as payment documents write it.

    Example:
        >>> yuan_upper(100010000), yuan_upper("3.05"), yuan_upper("0.5")
        ('人民币壹亿零壹万元整', '人民币叁元零伍分', '人民币伍角整')
    """
    value = _decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError(f"a negative amount has no capital form: {value}")
    whole = int(value)
    fen_total = int((value - whole) * 100)
    jiao, fen = divmod(fen_total, 10)
    groups = []
    n = whole
    while n:
        n, g = divmod(n, 10000)
        groups.append(g)
    if len(groups) > len(_GROUPS):
        raise ValueError(f"too large an amount: {value}")
    text, pending_zero = "", False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            pending_zero = bool(text)
            continue
        if text and (pending_zero or g < 1000):
            text += "零"
        text += _group(g) + _GROUPS[i]
        pending_zero = False
    if text:
        text += "元"
    if jiao == 0 and fen == 0:
        return prefix + (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    if fen:
        if not jiao and whole:
            text += "零"
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return prefix + text


def area(m2: object | None, missing: str = "—") -> str:
    """``12,345.60平方米（约18.52亩、1.2346公顷）``."""
    if m2 is None:
        return missing
    value = _decimal(m2)
    return f"{number(value)}平方米（约{number(value / M2_PER_MU)}亩、{number(value / 10000, 4)}公顷）"


def percent(rate: object) -> str:
    """0.2 as ``20%`` (as many decimals as the rate has)."""
    value = _decimal(rate) * 100
    text = format(value.normalize(), "f")
    return f"{text}%"


def share(rate: object | None, missing: str = "—") -> str:
    """A share measured (0.1732) as ``17.3%``."""
    return missing if rate is None else f"{_decimal(rate) * 100:.1f}%"
