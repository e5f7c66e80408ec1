"""PDF: draws a ``Layout`` with reportlab; decides nothing about where things go.

Takes the laid-out pages and returns PDF bytes. Fonts are the TrueType files
the font layer registered, which reportlab embeds as subsets. ``invariant``
mode fixes the dates and the document id, so the same input gives the same
bytes.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
from collections.abc import Iterator
from pathlib import Path

from reportlab.lib.colors import HexColor
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from docgen.layout.boxes import Glyph, Layout, Line, PictureMark, Row, RuleMark, TableBox, TextMark
from docgen.layout.flow import Geometry
from docgen.model import Document
from docgen.render import pdf_reuse
from docgen.style import Style

PDF_CREATOR = "docgen"
BOLD_STROKE = 0.03  # outline stroke for synthetic bold, as a share of the font size


def render_pdf(layout: Layout, doc: Document, style: Style) -> bytes:
    pdf_reuse.install()
    buffer = io.BytesIO()
    # reportlab starts every page in Helvetica; start in the body font so no base-14 font is referenced.
    body_font = next(g.font for page in layout.pages for row in page.rows for line in row.lines for g in line.glyphs)
    canvas = Canvas(
        buffer, pagesize=(style.page_width, style.page_height), invariant=1, pageCompression=1,
        initialFontName=body_font,
    )
    canvas.setTitle(doc.title or doc.source.stem)
    canvas.setAuthor(doc.meta.author or (doc.signature.issuers[0] if doc.signature.issuers else ""))
    canvas.setSubject(doc.meta.subject or "")
    canvas.setKeywords(doc.meta.keywords or "")
    canvas.setCreator(PDF_CREATOR)
    painter = _Painter(canvas, style)
    for page in layout.pages:
        for row in page.rows:
            painter.row(row, page.index)
        if page.page_number_line is not None:
            painter.line(page.page_number_line)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class _Painter:
    def __init__(self, canvas: Canvas, style: Style) -> None:
        self.canvas = canvas
        self.doc = canvas._doc  # reportlab's document, which numbers the font subsets
        self.h = style.page_height
        self.left = style.left  # marks are positioned from the left margin; glyphs carry absolute x
        self.text_width = style.text_width
        self.cell_baseline = Geometry(style).baseline(style.element("table").line_pitch_pt or 20, 12)

    def row(self, row: Row, page: int) -> None:
        for line in row.lines:
            if line.page == page:
                self.line(line)
        if row.table is not None:
            self.table(row.table, page)
        if row.page != page:
            return
        for mark in row.marks:
            if isinstance(mark, RuleMark):
                self.rule(mark, row)
            elif isinstance(mark, PictureMark):
                self.canvas.drawImage(
                    _image(mark.path),
                    self.left + mark.x,
                    self.h - (row.top + mark.dy + mark.height),
                    mark.width,
                    mark.height,
                    mask="auto",
                )
            elif isinstance(mark, TextMark) and mark.line is not None:
                self.line(mark.line)
        if row.picture is not None:
            x = self.left + (self.text_width - row.picture_width) / 2
            y = self.h - row.top - row.height
            self.canvas.drawImage(_image(row.picture), x, y, row.picture_width, row.height, mask="auto")

    def line(self, line: Line) -> None:
        """One text object per line, written as PDF operators.

        reportlab's text object re-splits every string into font subsets and
        re-emits font, colours and spacing for each run; written directly, a
        line costs a third of the time. The operators are the ones reportlab
        writes (Tf, rg/RG, Tr, Tc, Tz, Tm, Tj); only what changes within the
        line is repeated.
        """
        if not line.glyphs:
            return
        ops: list[str] = []
        bold_sizes = [g.size for g in line.glyphs if g.bold]
        if bold_sizes:
            ops.append(f"{fp_str(max(bold_sizes) * BOLD_STROKE)} w")
        ops.append(f"BT {fp_str(line.horiz_scale * 100)} Tz")
        y = fp_str(self.h - line.baseline)
        current: dict[str, object] = {}

        def state(name: str, value: object, operator: str) -> None:
            if current.get(name) != value:
                current[name] = value
                ops.append(operator)

        for group, spacing in _evenly_spaced(line.glyphs):
            first = group[0]
            state("color", first.color, _color_operators(first.color))
            # The 公文 faces have no bold: embolden by stroking the outline, as Word and WPS do.
            state("mode", first.bold, "2 Tr" if first.bold else "0 Tr")
            state("spacing", spacing, f"{fp_str(spacing / line.horiz_scale)} Tc")
            font = pdfmetrics.getFont(first.font)
            # One Tm per font subset: pdfminer (and so pdfplumber) loses the
            # character spacing where a string switches subsets.
            start = 0
            for subset, encoded in font.splitString("".join(g.ch for g in group), self.doc):
                name = font.getSubsetInternalName(subset, self.doc)
                state("font", (name, first.size), f"{name} {fp_str(first.size)} Tf")
                ops.append(f"1 0 0 1 {fp_str(group[start].x)} {y} Tm ({escapePDF(encoded)}) Tj")
                start += len(encoded)
        ops.append("ET")
        self.canvas.addLiteral(" ".join(ops))

    def rule(self, mark: RuleMark, row: Row) -> None:
        y = self.h - mark.y(row)
        color = HexColor("#" + mark.color)
        c = self.canvas
        c.setStrokeColor(color)
        c.setLineWidth(mark.thickness)
        for x0, x1 in mark.segments():
            c.line(self.left + x0, y, self.left + x1, y)
        if not mark.star:
            return
        # R-HDR-14: a solid red star at the rule's centre.
        cx, r = self.left + (mark.x0 + mark.x1) / 2, mark.star / 2
        c.setFillColor(color)
        path = c.beginPath()
        for k in range(10):
            radius = r if k % 2 == 0 else r * 0.382
            angle = math.pi / 2 + k * math.pi / 5
            px, py = cx + radius * math.cos(angle), y + radius * math.sin(angle) - r * 0.1
            path.moveTo(px, py) if k == 0 else path.lineTo(px, py)
        path.close()
        c.drawPath(path, stroke=0, fill=1)

    def table(self, box: TableBox, page: int) -> None:
        c = self.canvas
        c.setStrokeColor(HexColor("#000000"))
        c.setLineWidth(0.5)
        for table_row, row_page, top in box.placements:
            if row_page != page:
                continue
            y_top = self.h - top
            y_bottom = y_top - table_row.height
            for cell in table_row.cells:
                c.rect(cell.x, y_bottom, cell.width, table_row.height, stroke=1, fill=0)
                for n, line in enumerate(cell.lines):
                    self.line(Line(line.glyphs, baseline=top + n * box.line_height + self.cell_baseline))




@functools.cache
def _color_operators(hex_color: str) -> str:
    """Fill and stroke colour operators for an RRGGBB colour (the stroke draws synthetic bold)."""
    rgb = fp_str(*HexColor("#" + hex_color).rgb())
    return f"{rgb} rg {rgb} RG"


def _image(path: Path) -> ImageReader:
    """An image reportlab names by its content: given a file name it names it by the path,
    and the same document built in another folder would give other bytes."""
    return ImageReader(str(path))


def _evenly_spaced(glyphs: list[Glyph]) -> Iterator[tuple[list[Glyph], float]]:
    """Runs of glyphs of one font, size, colour and weight, each the same distance from the next."""
    group = [glyphs[0]]
    spacing: float | None = None
    for prev, glyph in itertools.pairwise(glyphs):
        gap = glyph.x - prev.x - prev.width
        same = (glyph.font, glyph.size, glyph.color, glyph.bold) == (prev.font, prev.size, prev.color, prev.bold)
        if same and (spacing is None or abs(gap - spacing) < 0.001):
            spacing = gap
            group.append(glyph)
        else:
            yield group, spacing or 0.0
            group, spacing = [glyph], None
    yield group, spacing or 0.0
