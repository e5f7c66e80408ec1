"""Line breaking with 避头尾 (R-TEXT-3, R-TEXT-5).

Takes a paragraph's shaped atoms and the widths available to its lines;
returns the lines as ranges of atoms. The rules copy what Word, WPS and
LibreOffice do for zh-CN text (fonts-rendering.md §4), so that the .docx,
laid out by those programs, breaks where the PDF does:

- characters that may not begin a line (closing punctuation) pull the break
  back; characters that may not end one (opening punctuation) are carried to
  the next line;
- with hanging punctuation on, one of ，。、；：？！ may hang past the right edge;
- a run of ASCII letters, digits and their joiners (2.1, 10.5%, 6+3, GB/T)
  is never split, nor are —— and …… (GB/T 15834); …… does not begin a line
  (Word's simplified-Chinese list).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# LibreOffice's zh_CN lists (liblocaledata_others), which match Word's
# simplified-Chinese defaults for the characters 公文 use; … added from Word's list.
NOT_AT_LINE_START = frozenset(
    "!),.:;?]}¢'\"、。〉》」』】〕〗〞︰︱︳﹐､﹒﹔﹕﹖﹗﹚﹜﹞！），．：；？｜｝︴︶︸︺︼︾﹀﹂﹄﹏～￠々‖•·ˇˉ―′’”…"
)
NOT_AT_LINE_END = frozenset("([{£¥'\"‵〈《「『【〔〖（［｛￡￥〝︵︷︹︻︽︿﹁﹃﹙﹛﹝“‘")
HANGING = frozenset("!,.:;?、。！，．：；？")

EPSILON = 0.01  # pt; widths are sums of floats


@dataclass(slots=True)
class Atom:
    """One character, shaped: its advance and what follows it."""

    ch: str
    width: float  # glyph advance at its size
    spacing: float  # character spacing added after it
    font: str  # reportlab font name
    size: float
    color: str
    bold: bool = False
    boundary: float = 0.0  # the character spacing given back where Chinese and ASCII text meet
    autospace: float = 0.0  # the Asian/Latin space before a neighbouring hanzi or Latin letter/digit

    @property
    def advance(self) -> float:
        return self.width + self.spacing + self.boundary + self.autospace


def _may_hang(atoms: Sequence[Atom], index: int) -> bool:
    """A mark of HANGING may hang, except after a Latin letter or digit.

    Word, WPS and LibreOffice hang ，。 after Chinese text; after 2023 or
    GB/T or 12% LibreOffice does not, so the mark goes to the next line with the
    word before it, which is right in every program.
    """
    if atoms[index].ch not in HANGING:
        return False
    before = index
    while before > 0 and is_latin(atoms[before - 1].ch):
        before -= 1
    return not any(a.ch.isalnum() for a in atoms[before:index])


def trailing_space(atom: Atom) -> float:
    """The space after an atom that does not count when it ends a line.

    The Asian/Latin space never does; a Latin character at the end of its
    run keeps its full width, as LibreOffice measures it.
    """
    return atom.autospace + (0.0 if is_latin(atom.ch) else atom.boundary) + atom.spacing


def natural_width(atoms: Sequence[Atom]) -> float:
    """The width ``atoms`` take on a line they end: every advance, less the last one's trailing space."""
    return sum(a.advance for a in atoms) - trailing_space(atoms[-1]) if atoms else 0.0


def is_latin(ch: str) -> bool:
    return "!" <= ch <= "~"


def _units(atoms: Sequence[Atom]) -> list[tuple[int, int]]:
    """Split into unbreakable units: one CJK character, one Latin word, one ——/…… pair, one space."""
    units: list[tuple[int, int]] = []
    i, n = 0, len(atoms)
    while i < n:
        ch = atoms[i].ch
        j = i + 1
        if is_latin(ch):
            while j < n and is_latin(atoms[j].ch):
                j += 1
        elif ch in "—…":
            while j < n and atoms[j].ch == ch and j - i < 2:
                j += 1
        units.append((i, j))
        i = j
    return units


def break_lines(atoms: Sequence[Atom], first_width: float, width: float, hanging: bool) -> list[tuple[int, int]]:
    """Greedy breaking: as many units as fit, then 避头尾 adjustments.

    Returns (start, end) atom ranges, one per line; an empty paragraph gives
    one empty line.
    """
    if not atoms:
        return [(0, 0)]
    units = _units(atoms)
    unit_widths = [sum(a.advance for a in atoms[s:e]) for s, e in units]
    lines: list[tuple[int, int]] = []
    u = 0
    while u < len(units):
        avail = first_width if not lines else width
        used = 0.0
        k = u
        while k < len(units):
            s, e = units[k]
            # Space before a Latin neighbour is not part of the line; LibreOffice
            # counts the space after Latin text before a Chinese one.
            w = unit_widths[k] - trailing_space(atoms[e - 1])
            if used + w > avail + EPSILON and not atoms[s].ch.isspace():
                break
            used += unit_widths[k]
            k += 1
        if k == len(units):
            lines.append((units[u][0], units[-1][1]))
            break
        if k == u:  # a single unit wider than the line: it gets a line of its own
            k = u + 1
        elif (
            hanging
            and _may_hang(atoms, units[k][0])
            and units[k][1] - units[k][0] == 1
            and not (k + 1 < len(units) and atoms[units[k + 1][0]].ch in NOT_AT_LINE_START)
        ):
            k += 1  # hang it in the margin (unless what follows may not begin a line either: ！？)
        else:
            while k - 1 > u and (
                atoms[units[k][0]].ch in NOT_AT_LINE_START or atoms[units[k - 1][1] - 1].ch in NOT_AT_LINE_END
            ):
                k -= 1
        lines.append((units[u][0], units[k - 1][1]))
        u = k
    return lines


def hung_tail(atoms: Sequence[Atom], start: int, end: int, avail: float) -> bool:
    """Whether the line's last atom hangs past the right edge."""
    if end <= start or atoms[end - 1].ch not in HANGING:
        return False
    return natural_width(atoms[start:end]) > avail + EPSILON


def place_line(
    atoms: Sequence[Atom], start: int, end: int, x0: float, avail: float, align: str, last: bool
) -> list[float]:
    """x positions of atoms[start:end] on a line that begins at x0 and is ``avail`` wide."""
    xs: list[float] = []
    hangs = hung_tail(atoms, start, end, avail)
    body_end = end - 1 if hangs else end
    extra = avail - natural_width(atoms[start:body_end])
    gaps: list[int] = []  # atom indices after which justification space goes
    if align == "both" and not last and extra > 0:
        units = _units(atoms[start:body_end])
        gaps = [start + e - 1 for _, e in units[:-1]]
    per_gap = extra / len(gaps) if gaps else 0.0
    gap_set = set(gaps)
    if align == "center":
        x = x0 + max(0.0, extra) / 2
    elif align == "right":
        x = x0 + max(0.0, extra)
    else:
        x = x0
    for i in range(start, end):
        xs.append(x)
        x += atoms[i].advance
        if i in gap_set:
            x += per_gap
    return xs
