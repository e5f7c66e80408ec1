"""What layout produces: flow rows (for the .docx) and positioned pages (for the PDF).

All lengths are in pt; y grows downward from the page's top edge. Renderers
read these and decide nothing: the .docx writer turns each row into a
paragraph with the same exact heights, the PDF writer draws each page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """A piece of text in one element style (font role, size, colour)."""

    text: str
    role: str
    size: float
    color: str = "000000"
    bold: bool = False


@dataclass(slots=True)
class Glyph:
    ch: str
    x: float  # left edge, pt from the page's left edge
    width: float  # advance without spacing
    font: str  # reportlab font name
    size: float
    color: str
    bold: bool = False


@dataclass
class Line:
    glyphs: list[Glyph]
    baseline: float = 0.0
    top: float = 0.0  # top of the line box
    height: float = 0.0
    horiz_scale: float = 1.0
    page: int = 0

    @property
    def text(self) -> str:
        return "".join(g.ch for g in self.glyphs)


AT_ROW_BOTTOM = -1.0  # RuleMark.dy for a rule on the bottom edge of its row, whatever its height


@dataclass
class RuleMark:
    """A horizontal rule, positioned relative to the top of the row that carries it."""

    x0: float
    x1: float
    dy: float  # centre line, below the row's top; AT_ROW_BOTTOM for the row's bottom edge
    thickness: float
    color: str
    star: float = 0.0  # diameter of a ★ interrupting the rule at its centre (R-HDR-14), 0 for none

    def y(self, row: Row) -> float:
        """The rule's centre line, pt from the page top, once ``row`` is placed."""
        return row.top + (row.total_height if self.dy == AT_ROW_BOTTOM else self.dy)

    def segments(self) -> list[tuple[float, float]]:
        """The stretches drawn: the whole rule, or the two sides of the star with a gap around it."""
        if not self.star:
            return [(self.x0, self.x1)]
        centre, gap = (self.x0 + self.x1) / 2, self.star / 2 * 1.6
        return [(self.x0, centre - gap), (centre + gap, self.x1)]


@dataclass
class PictureMark:
    """A picture (seal) placed over the text, relative to the top of the row that carries it."""

    path: Path
    x: float
    dy: float
    width: float
    height: float


@dataclass
class TextMark:
    """Text placed beside the flow: 文件 centred on a joint issuer mark (R-HDR-8).

    ``centre_dy`` is the vertical centre of the text's line box below the row's
    top; ``baseline_shift`` is the baseline's offset from that centre.
    """

    x: float
    centre_dy: float
    runs: list[Run]
    horiz_scale: float
    baseline_shift: float
    line: Line | None = None


@dataclass
class Tab:
    """Part of a one-line row anchored at ``pos`` (pt from the left margin): left, center or right aligned."""

    pos: float
    align: str  # left | center | right | distribute (spread over ``width``)
    runs: list[Run]
    width: float = 0.0


@dataclass
class Row:
    """One paragraph of the flow: text broken into lines of an exact height, or a spacer.

    ``kind`` names the element (body, h1, title, spacer …) and so the .docx
    paragraph style. A spacer has no runs and a fixed ``height``.
    """

    kind: str
    runs: list[Run] = field(default_factory=list)
    where: str = ""  # the source of the text, for warnings: "doc.yaml:12:5 正文"
    align: str = "both"  # both | left | center | right
    first_indent: float = 0.0
    left_indent: float = 0.0
    right_indent: float = 0.0
    line_height: float = 0.0
    tabs: list[Tab] = field(default_factory=list)  # a one-line row of positioned parts instead of runs
    horiz_scale: float = 1.0
    keep_with_next: bool = False
    page_break_before: bool = False
    height: float = 0.0  # spacers only
    marks: list[RuleMark | PictureMark | TextMark] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    # Set by pagination: page index (0-based) and top of the row on that page.
    page: int = 0
    top: float = 0.0
    picture: Path | None = None  # an inline picture row (block image), ``height`` high
    picture_width: float = 0.0
    char_spacing: float | None = None  # None: the grid's character spacing
    table_cells: list[list[str]] | None = None
    table_header: bool = False
    table: TableBox | None = None  # the table laid out

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs) + "".join(r.text for t in self.tabs for r in t.runs)

    @property
    def total_height(self) -> float:
        if self.table is not None:
            return self.table.height
        if self.picture is not None or not (self.runs or self.tabs):
            return self.height
        return self.line_height * len(self.lines)


@dataclass
class TableCell:
    lines: list[Line]
    x: float
    width: float


@dataclass
class TableRowBox:
    cells: list[TableCell]
    height: float
    header: bool = False


@dataclass
class TableBox:
    columns: list[float]  # column widths
    rows: list[TableRowBox]
    line_height: float
    padding: float
    source_rows: list[list[str]]
    # Each row as placed (a repeated header row appears again): row, page, top.
    placements: list[tuple[TableRowBox, int, float]] = field(default_factory=list)

    @property
    def height(self) -> float:
        return sum(r.height for r in self.rows)


@dataclass
class Page:
    index: int  # 0-based physical page
    number: int | None  # printed page number, None for an unnumbered page
    rows: list[Row] = field(default_factory=list)
    page_number_line: Line | None = None


@dataclass
class Layout:
    pages: list[Page]
    rows: list[Row]
    warnings: list[str] = field(default_factory=list)
    # Index into ``rows`` of the first row of an unnumbered tail section
    # (blank page + 版记 page, R-PGNUM-4), or None.
    unnumbered_from: int | None = None
