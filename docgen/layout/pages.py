"""Pagination: rows to positioned lines on pages.

Takes the ``Flow`` and returns a ``Layout``: every row broken into lines,
every line given a page and a position, the 版记 pinned to the foot of the
last even page (R-END-8) with a blank page when needed, and the page numbers
(R-PGNUM-1..6). Widow and orphan control is off, as in the .docx, so a full
page always holds 22 body lines.
"""

from __future__ import annotations

import functools
from pathlib import Path

from docgen.fonts import FontSet
from docgen.layout.boxes import (
    Glyph,
    Line,
    Page,
    PictureMark,
    Row,
    Run,
    TableBox,
    TableCell,
    TableRowBox,
    TextMark,
)
from docgen.layout.flow import Geometry, spacer
from docgen.layout.linebreak import Atom, break_lines, natural_width, place_line
from docgen.layout.shaping import Shaper
from docgen.style import MM, Style

EPSILON = 0.05  # pt


class Paginator:
    def __init__(self, style: Style, shaper: Shaper, fonts: FontSet) -> None:
        self.style = style
        self.shaper = shaper
        self.fonts = fonts
        self.geo = Geometry(style)
        self.pages: list[Page] = []
        self.y = 0.0

    # ------------------------------------------------------------ lines

    def shape(self, runs: list[Run], row: Row, where: str) -> list[Atom]:
        spacing = row.char_spacing is None
        atoms = self.shaper.shape(runs, where, spacing=spacing)
        if row.char_spacing:
            for atom in atoms:
                atom.spacing = row.char_spacing
        if row.horiz_scale != 1.0:
            for atom in atoms:
                atom.width *= row.horiz_scale
                atom.spacing *= row.horiz_scale
                atom.boundary *= row.horiz_scale
                atom.autospace *= row.horiz_scale
        return atoms

    def break_row(self, row: Row) -> None:
        """Fill ``row.lines`` with glyphs at their x positions."""
        left = self.style.left
        where = row.where or row.kind
        if row.tabs:
            glyphs: list[Glyph] = []
            for tab in row.tabs:
                atoms = self.shape(tab.runs, row, where)
                natural = natural_width(atoms)
                x = left + tab.pos
                if tab.align == "right":
                    x -= natural
                elif tab.align == "center":
                    x -= natural / 2
                extra = 0.0
                if tab.align == "distribute" and len(atoms) > 1:
                    extra = (tab.width - natural) / (len(atoms) - 1)
                glyphs += _set(atoms, x, extra)
            row.lines = [Line(glyphs, height=row.line_height, horiz_scale=row.horiz_scale)]
            return
        atoms = self.shape(row.runs, row, where)
        width = self.style.text_width - row.left_indent - row.right_indent
        row.lines = []
        # An explicit line break ("\n", title lines given by the user) ends a segment.
        segment: list[Atom] = []
        segments: list[list[Atom]] = []
        for atom in atoms:
            if atom.ch == "\n":
                segments.append(segment)
                segment = []
            else:
                segment.append(atom)
        segments.append(segment)
        for seg_index, seg in enumerate(segments):
            first = seg_index == 0
            first_width = width - row.first_indent if first else width
            ranges = break_lines(seg, first_width, width, bool(self.style.grid.hanging_punctuation))
            for n, (start, end) in enumerate(ranges):
                indent = row.first_indent if first and n == 0 else 0.0
                x0 = left + row.left_indent + indent
                avail = width - indent
                xs = place_line(seg, start, end, x0, avail, row.align, last=n == len(ranges) - 1)
                glyphs = [_glyph(seg[i], x) for i, x in zip(range(start, end), xs, strict=True)]
                row.lines.append(Line(glyphs, height=row.line_height, horiz_scale=row.horiz_scale))

    # ------------------------------------------------------------ tables

    def layout_table(self, row: Row) -> None:
        cells = row.table_cells or []
        el = self.style.element("table")
        lh = float(el.line_pitch_pt or el.size_pt * 1.25)
        padding = 5.4  # 0.19 cm, the default cell margin of Word and LibreOffice
        ncols = max(len(r) for r in cells)
        total = self.style.text_width
        shaped = [[self.shaper.shape([Run(c, el.font, el.size_pt)], "表格", spacing=False) for c in r] for r in cells]
        natural = [
            max((sum(a.advance for a in r[i]) if i < len(r) else 0) for r in shaped) + 2 * padding
            for i in range(ncols)
        ]
        # Columns share the width in proportion to their content, none below 2 字.
        capped = [min(max(n, 2 * el.size_pt + 2 * padding), total / 2) for n in natural]
        columns = [round(c * total / sum(capped), 2) for c in capped]
        columns[-1] = round(total - sum(columns[:-1]), 2)
        box = TableBox(columns=columns, rows=[], line_height=lh, padding=padding, source_rows=cells)
        for r_index, r in enumerate(shaped):
            x = self.style.left
            row_cells = []
            for i in range(ncols):
                atoms = r[i] if i < len(r) else []
                inner = columns[i] - 2 * padding
                align = "center" if (row.table_header and r_index == 0) else "left"
                lines = []
                for start, end in break_lines(atoms, inner, inner, hanging=False):
                    xs = place_line(atoms, start, end, x + padding, inner, align, last=True)
                    lines.append(Line([_glyph(atoms[j], gx) for j, gx in zip(range(start, end), xs, strict=True)],
                                      height=lh))
                row_cells.append(TableCell(lines=lines, x=x, width=columns[i]))
                x += columns[i]
            height = max(len(c.lines) for c in row_cells) * lh
            box.rows.append(TableRowBox(cells=row_cells, height=height, header=row.table_header and r_index == 0))
        row.table = box

    # ------------------------------------------------------------ pages

    def new_page(self) -> None:
        self.pages.append(Page(index=len(self.pages), number=len(self.pages) + 1))
        self.y = self.style.top

    @property
    def page_is_empty(self) -> bool:
        return not self.pages[-1].rows

    def fits(self, height: float) -> bool:
        return self.y + height <= self.style.flow_bottom + EPSILON

    def place(self, rows: list[Row]) -> None:
        for index, row in enumerate(rows):
            if row.table_cells is not None and row.table is None:
                self.layout_table(row)
            elif (row.runs or row.tabs) and not row.lines:
                self.break_row(row)
            if row.page_break_before and not self.page_is_empty:
                self.new_page()
            if row.keep_with_next and index + 1 < len(rows):
                after = rows[index + 1]
                if (after.runs or after.tabs) and not after.lines:
                    self.break_row(after)
                first_after = after.lines[0].height if after.lines else after.total_height
                if self.fits(row.total_height) and not self.fits(row.total_height + first_after):
                    self.new_page()
            if row.table is not None:
                self.place_table(row)
            elif row.lines:
                self.place_lines(row)
            else:
                if not self.fits(row.height) and not self.page_is_empty:
                    self.new_page()
                row.page, row.top = len(self.pages) - 1, self.y
                self.pages[-1].rows.append(row)
                self.y += row.height

    def place_lines(self, row: Row) -> None:
        size = max((g.size for line in row.lines for g in line.glyphs), default=16.0)
        baseline = self.geo.baseline(row.line_height, size)
        for n, line in enumerate(row.lines):
            if not self.fits(line.height) and not self.page_is_empty:
                self.new_page()
            line.top = self.y
            line.baseline = self.y + baseline
            line.page = len(self.pages) - 1
            if n == 0:
                row.page, row.top = line.page, self.y
            if row not in self.pages[-1].rows:
                self.pages[-1].rows.append(row)
            self.y += line.height
        for mark in row.marks:
            if isinstance(mark, TextMark):
                glyphs = _set(self.shape(mark.runs, row, row.kind), self.style.left + mark.x)
                mark.line = Line(glyphs, baseline=row.top + mark.centre_dy + mark.baseline_shift,
                                 horiz_scale=mark.horiz_scale)

    def place_table(self, row: Row) -> None:
        box = row.table
        assert box is not None
        placements = []
        header = box.rows[0] if box.rows and box.rows[0].header else None
        for table_row in box.rows:
            if not self.fits(table_row.height) and not self.page_is_empty:
                self.new_page()
                if header is not None and table_row is not header:
                    placements.append((header, len(self.pages) - 1, self.y))
                    self.y += header.height
            if not placements:
                row.page, row.top = len(self.pages) - 1, self.y
            placements.append((table_row, len(self.pages) - 1, self.y))
            if row not in self.pages[-1].rows:
                self.pages[-1].rows.append(row)
            self.y += table_row.height
        box.placements = placements

    # ------------------------------------------------------------ 版记 and page numbers

    def content_bottom(self, rows: list[Row]) -> float:
        """The lowest point of the last page's content, seals included."""
        bottom = self.y
        for row in rows:
            if row.page != len(self.pages) - 1:
                continue
            for mark in row.marks:
                if isinstance(mark, PictureMark):
                    bottom = max(bottom, row.top + mark.dy + mark.height)
        return bottom

    def place_colophon(self, colophon: list[Row], placed: list[Row]) -> int | None:
        """R-END-8; returns the index into the flow of an unnumbered tail, if any."""
        for row in colophon:
            self.break_row(row)
        height = sum(r.total_height for r in colophon)
        last = len(self.pages)  # 1-based number of the last content page
        # Room below the content, seals included, with a blank line above the 版记.
        room = self.style.flow_bottom - self.content_bottom(placed)
        even = bool(self.style.colophon.even_page)
        tail: list[Row] = []
        unnumbered = None
        if (not even or last % 2 == 0) and room >= height + self.style.pitch - EPSILON:
            tail.append(spacer(self.style.flow_bottom - self.y - height))
        elif not even or last % 2 == 1:
            tail.append(_page_break_spacer(self.style.flow_bottom - self.style.top - height))
        else:  # even page without room: a blank page, then the 版记; neither numbered (R-PGNUM-4)
            blank = _page_break_spacer(0)
            blank.kind = "blank_page"
            tail += [blank, _page_break_spacer(self.style.flow_bottom - self.style.top - height)]
            unnumbered = len(placed)
        first_tail_page = len(self.pages)
        self.place(tail + colophon)
        placed += tail + colophon
        if unnumbered is not None:
            for page in self.pages[first_tail_page:]:
                page.number = None
        return unnumbered

    def number_pages(self) -> None:
        el = self.style.element("page_number")
        cfg = self.style.page_number
        face = self.fonts.face(el.font)
        baseline = self.style.bottom + cfg.dash_below_mm * MM + dash_centre(face.path, el.size_pt)
        indent = cfg.indent_chars * self.style.char_width
        for page in self.pages:
            if page.number is None:
                continue
            text = str(cfg.format).format(n=page.number)
            atoms = self.shaper.shape([Run(text, el.font, el.size_pt)], "页码", spacing=False)
            width = sum(a.advance for a in atoms)
            odd = page.number % 2 == 1 or not cfg.odd_even
            x = self.style.right - indent - width if odd else self.style.left + indent
            page.page_number_line = Line(_set(atoms, x), baseline=baseline)


def _page_break_spacer(height: float) -> Row:
    row = spacer(height)
    row.page_break_before = True
    return row


def _set(atoms: list[Atom], x: float, extra: float = 0.0) -> list[Glyph]:
    """Glyphs one after another from ``x``, ``extra`` added after each (distributed text)."""
    glyphs = []
    for atom in atoms:
        glyphs.append(_glyph(atom, x))
        x += atom.advance + extra
    return glyphs


def _glyph(atom: Atom, x: float) -> Glyph:
    return Glyph(atom.ch, x, atom.width, atom.font, atom.size, atom.color, atom.bold)


@functools.lru_cache(maxsize=8)
def _dash_centre_units(path: Path) -> tuple[float, float]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        name = font.getBestCmap().get(0x2014)
        upm = font["head"].unitsPerEm
        if name is None:
            return 0.3, upm
        glyf = font["glyf"][name]
        glyf.recalcBounds(font["glyf"])
        return (glyf.yMin + glyf.yMax) / 2 / upm, upm


def dash_centre(path: Path, size: float) -> float:
    """How far the em dash's ink centre lies above the baseline, in pt (R-PGNUM-2 measures the dash)."""
    ratio, _ = _dash_centre_units(path)
    return ratio * size
