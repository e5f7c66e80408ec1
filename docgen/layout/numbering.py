"""Heading ordinals 一、 （一） 1. （1） (R-BODY-3) and dates 2023年1月5日 (R-SIG-7)."""

from __future__ import annotations

import datetime as dt

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九."""
    if not 0 < n < 100:
        raise ValueError(f"heading number out of range: {n}")
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[ones] if ones else "")


def ordinal(level: int, n: int) -> str:
    if level == 1:
        return f"{chinese_number(n)}、"
    if level == 2:
        return f"（{chinese_number(n)}）"
    if level == 3:
        return f"{n}."
    return f"（{n}）"


class HeadingCounter:
    """Counts headings by level; a level restarts after any higher heading."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0, 0]

    def next(self, level: int) -> str:
        self.counts[level - 1] += 1
        for deeper in range(level, 4):
            self.counts[deeper] = 0
        return ordinal(level, self.counts[level - 1])


def chinese_date(date: dt.date) -> str:
    """Arabic numerals, full year, no zero padding (R-SIG-7)."""
    return f"{date.year}年{date.month}月{date.day}日"
