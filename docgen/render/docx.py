"""DOCX: writes a ``Layout``'s rows as a native, editable Word document.

Takes the rows (paragraphs with exact line heights, spacers of exact
heights) and returns .docx bytes. Every element has a named paragraph style
(公文正文, 一级标题 …) so a user can restyle the document; page numbers are PAGE
fields in odd and even footers; the section carries the page geometry and the
lines-only document grid that makes Word, WPS and LibreOffice lay the text on
the same 22 × 28 grid as the PDF. Rules, seals and the 文件 of a joint mark
float at the page positions the layout computed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from lxml.etree import _Element

from docgen.fonts.docx_fonts import clean_docx_fonts, run_font_attributes, set_run_fonts
from docgen.layout.boxes import Layout, PictureMark, Row, RuleMark, Run, TextMark
from docgen.model import Document
from docgen.render import oxml
from docgen.style import Style

# Paragraph styles for rows that are not elements of the style file.
SPACER_STYLE = "空行"
OUTLINE_LEVELS = {"h1": 0, "h2": 1, "h3": 2, "h4": 3}
LATIN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))
LATIN_OR_NOT = re.compile(r"[!-~]+|…+|—+|[^!-~…—]+")
ALIGN = {"both": "both", "left": "left", "center": "center", "right": "right", "distribute": "distribute"}


# The paragraph shape an element's named style gives text a user types into it;
# the rows written from the layout carry their own alignment and indents.
STYLE_ALIGN = {
    "title": "center", "attachment_title": "center", "issuer_mark": "center", "doc_number": "center",
    "date": "right", "page_number": "right", "signature": "left", "copy_no": "left", "secrecy": "left",
    "urgency": "left", "attachment_label": "left", "table": "left",
}
INDENTED = ("body", "h1", "h2", "h3", "h4")  # first line 2 字 (R-BODY-2, R-BODY-3)
UNSPACED = ("title", "attachment_title")  # no −0.25 pt tracking: titles are not on the 28-character grid

# A prepared package per style and page-number position: the cleaned
# template, every named style, the section and the footers. Documents of a
# batch differ only in their body, so each starts from these bytes.
_BASES: dict[tuple[str, str, float], tuple[bytes, dict[str, str]]] = {}


def render_docx(layout: Layout, doc: Document, style: Style, timestamp: dt.datetime) -> bytes:
    writer = _DocxWriter(style, doc, _footer_baseline(layout))
    writer.write(layout)
    writer.properties(doc, timestamp)
    buffer = io.BytesIO()
    writer.document.save(buffer)
    return _fixed_zip(buffer.getvalue(), timestamp)


def _footer_baseline(layout: Layout) -> float | None:
    return next((p.page_number_line.baseline for p in layout.pages if p.page_number_line is not None), None)


class _DocxWriter:
    def __init__(self, style: Style, doc: Document, footer_baseline: float | None) -> None:
        self.style = style
        self.doc = doc
        self.shape_id = 0
        key = (str(style.source), style.name, round(footer_baseline or 0.0, 3))
        if key not in _BASES:
            _BASES[key] = self.prepare(footer_baseline)
        base, style_ids = _BASES[key]
        self.document = docx.Document(io.BytesIO(base))
        # Paragraph style name → styleId: paragraphs name their style by id, as
        # python-docx's look-up by name goes through every style each time.
        self.style_ids = dict(style_ids)

    def prepare(self, footer_baseline: float | None) -> tuple[bytes, dict[str, str]]:
        """The package every document of this style starts from, and its style ids."""
        self.document = docx.Document()
        body = self.style.element("body")
        clean_docx_fonts(
            self.document, self.family(body.font), round(body.size_pt * 2), self.style.docx_fonts.values()
        )
        self.drop_template_styles()
        self.style_ids = {"Normal": "Normal"}
        self.setup_section()
        self.base_styles()
        for kind, el in self.style.elements.items():
            if el.docx_style and kind != "page_number":
                row = Row(
                    kind=kind,
                    align=STYLE_ALIGN.get(kind, "both"),
                    first_indent=2 * self.style.char_width if kind in INDENTED else 0.0,
                    char_spacing=0.0 if kind in UNSPACED else None,
                )
                self.element_style(kind, row)
        self.footers(footer_baseline)
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue(), self.style_ids

    # ------------------------------------------------------------ styles

    def family(self, role: str) -> str:
        return self.style.docx_fonts.get(role, self.style.docx_fonts["fangsong"])

    def latin_family(self) -> str | None:
        return self.style.docx_fonts.get("latin")

    def base_styles(self) -> None:
        """Normal: 3号仿宋, exact 28.95 pt lines, −0.25 pt tracking, no widow control (§3.3)."""
        normal = self.document.styles["Normal"]
        body = self.style.element("body")
        self.paragraph_style_props(normal.element, self.style.pitch, "both")
        rpr = normal.element.get_or_add_rPr()
        set_run_fonts(rpr, self.family(body.font), self.latin_family())
        oxml.set_r(rpr, "w:spacing", **{"w:val": str(oxml.twips(float(self.style.grid.char_spacing_pt)))})
        oxml.set_r(rpr, "w:sz", **{"w:val": str(round(body.size_pt * 2))})
        oxml.set_r(rpr, "w:szCs", **{"w:val": str(round(body.size_pt * 2))})
        oxml.set_r(rpr, "w:lang", **{"w:val": "zh-CN", "w:eastAsia": "zh-CN", "w:bidi": "ar-SA"})
        spacer = self.add_style(SPACER_STYLE)
        self.paragraph_style_props(spacer.element, self.style.pitch, "left")

    def drop_template_styles(self) -> None:
        """Keep only the defaults of python-docx's template: its 160 English styles are not ours,
        show up in Word's and WPS's style lists, and slow every style look-up."""
        styles = self.document.styles.element
        for st in list(styles.iterchildren(qn("w:style"))):
            if st.get(qn("w:default")) != "1":
                styles.remove(st)
        latent = styles.find(qn("w:latentStyles"))
        if latent is not None:
            styles.remove(latent)

    def add_style(self, name: str) -> object:
        st = self.document.styles.add_style(name, 1)
        st.base_style = self.document.styles["Normal"]
        st.quick_style = True
        self.style_ids[name] = st.style_id
        return st

    def paragraph_style_props(self, style_el: _Element, line_height: float, align: str) -> None:
        pp = style_el.get_or_add_pPr()
        oxml.set_p(pp, "w:widowControl", **{"w:val": "0"})
        oxml.set_p(pp, "w:snapToGrid", **{"w:val": "0"})
        oxml.exact_line(pp, line_height)
        oxml.set_p(pp, "w:jc", **{"w:val": ALIGN[align]})

    def element_style(self, kind: str, row: Row) -> str:
        """The styleId of an element's named paragraph style, made on first use."""
        if kind == "spacer" or kind not in self.style.elements:
            name = SPACER_STYLE if kind in ("spacer", "header_rule", "blank_page", "page_break") else "Normal"
            return self.style_ids[name]
        el = self.style.element(kind)
        name = el.docx_style or kind
        if name in self.style_ids:
            return self.style_ids[name]
        st = self.add_style(name)
        self.paragraph_style_props(st.element, float(el.line_pitch_pt or self.style.pitch), row.align)
        pp = st.element.get_or_add_pPr()
        if kind in INDENTED:
            oxml.indent(pp, 0, 0, row.first_indent)
        if kind in OUTLINE_LEVELS:
            oxml.set_p(pp, "w:outlineLvl", **{"w:val": str(OUTLINE_LEVELS[kind])})
            oxml.set_p(pp, "w:keepNext")  # a heading stays with what follows
        rpr = st.element.get_or_add_rPr()
        set_run_fonts(rpr, self.family(el.font), self.latin_family())
        if el.bold:
            oxml.set_r(rpr, "w:b")
        if el.color.upper() != "000000":
            oxml.set_r(rpr, "w:color", **{"w:val": el.color.upper()})
        if row.char_spacing is not None:
            oxml.set_r(rpr, "w:spacing", **{"w:val": str(oxml.twips(row.char_spacing))})
        oxml.set_r(rpr, "w:sz", **{"w:val": str(round(el.size_pt * 2))})
        oxml.set_r(rpr, "w:szCs", **{"w:val": str(round(el.size_pt * 2))})
        return self.style_ids[name]

    # ------------------------------------------------------------ section, footers

    def setup_section(self) -> None:
        st = self.style
        section = self.document.sections[0]
        el = st.element("page_number")
        # The footer's line box ends ``footer`` above the page bottom; put the
        # dash's baseline where the layout put it (R-PGNUM-2).
        line_h = el.line_pitch_pt or el.size_pt * 1.5
        self.footer_line = float(line_h)
        margins = {
            "top": st.top,
            "right": st.page_width - st.right,
            "bottom": st.page_height - st.bottom,
            "left": st.left,
            "header": 0.0,
            "footer": 0.0,  # set once the layout gives the page-number baseline
        }
        oxml.section_geometry(section._sectPr, st.page_width, st.page_height, margins, st.pitch)
        self.document.settings.odd_and_even_pages_header_footer = bool(st.page_number.odd_even)

    def footers(self, baseline: float | None) -> None:
        section = self.document.sections[0]
        if baseline is not None:
            box_bottom = baseline + self.footer_line * (1 - float(self.style.grid.baseline_ratio))
            pg_mar = section._sectPr.find(qn("w:pgMar"))
            pg_mar.set(qn("w:footer"), str(oxml.twips(self.style.page_height - box_bottom)))
        indent = self.style.page_number.indent_chars * self.style.char_width
        fmt = str(self.style.page_number.format)
        before, after = fmt.split("{n}")
        self.footer_paragraph(section.footer.paragraphs[0], "right", indent, before, after)
        if self.style.page_number.odd_even:
            self.footer_paragraph(section.even_page_footer.paragraphs[0], "left", indent, before, after)

    def footer_paragraph(self, paragraph: object, align: str, indent: float, before: str, after: str) -> None:
        el = self.style.element("page_number")
        p = paragraph._p  # type: ignore[attr-defined]
        pp = p.get_or_add_pPr()
        pstyle = self.page_number_style()
        oxml.set_p(pp, "w:pStyle", **{"w:val": pstyle})
        oxml.indent(pp, indent if align == "left" else 0, indent if align == "right" else 0, 0)
        oxml.set_p(pp, "w:jc", **{"w:val": align})
        oxml.page_field(p, oxml.rpr_xml(self.run_fonts(el.font), el.size_pt, spacing=0.0), before, after)

    def page_number_style(self) -> str:
        el = self.style.element("page_number")
        name = el.docx_style or "公文页码"
        if name not in self.style_ids:
            st = self.add_style(name)
            self.paragraph_style_props(st.element, self.footer_line, "right")
        return self.style_ids[name]

    # ------------------------------------------------------------ body

    def write(self, layout: Layout) -> None:
        body = self.document.element.body
        for p in list(body.iterchildren(qn("w:p"))):
            body.remove(p)
        pieces: list[str] = []
        section_end = None  # the piece that closes the numbered section
        for index, row in enumerate(layout.rows):
            section_break = layout.unnumbered_from is not None and index == layout.unnumbered_from
            if section_break:
                section_end = len(pieces) - 1
            if row.table is not None:
                pieces.append(self.table_xml(row))
            else:
                pieces.append(self.paragraph_xml(row, page_break=row.page_break_before and not section_break))
        fragment = parse_xml(f"<w:body {oxml.BODY_NAMESPACES}>{''.join(pieces)}</w:body>")
        blocks = list(fragment)
        body_sect = body.find(qn("w:sectPr"))
        for block in blocks:
            body_sect.addprevious(block)
        if section_end is not None:
            self.end_numbered_section(blocks[section_end])
            self.unnumbered_tail()

    def run_fonts(self, role: str) -> dict[str, str]:
        return run_font_attributes(self.family(role), self.latin_family())

    def paragraph_xml(self, row: Row, page_break: bool) -> str:
        el_line = self.style.elements[row.kind].line_pitch_pt if row.kind in self.style.elements else None
        props: dict = {"page_break": page_break}
        if row.kind in OUTLINE_LEVELS and not row.keep_with_next:
            props["keep_next"] = False  # a run-in heading is a paragraph of text
        content: list[str] = []
        if row.picture is not None:
            props.update(line_auto=True, jc="center")
            rel_id, _ = self.document.part.get_or_add_image(str(row.picture))
            content.append(oxml.picture_inline(self.next_id(), rel_id, row.picture_width, row.height))
        elif not (row.runs or row.tabs):
            props["line"] = row.height
        elif float(el_line or self.style.pitch) != row.line_height:
            props["line"] = row.line_height
        if row.tabs:
            content += self.tab_runs_xml(row, props)
        elif row.runs:
            if row.kind not in INDENTED or row.left_indent or row.right_indent:
                props["ind"] = (row.left_indent, row.right_indent, row.first_indent)
            props["jc"] = ALIGN[row.align]
            for run in row.runs:
                content += self.runs_xml(run, row)
        for mark in row.marks:
            content.append(self.mark_xml(mark, row))
        return f"<w:p>{oxml.ppr_xml(self.element_style(row.kind, row), **props)}{''.join(content)}</w:p>"

    def tab_runs_xml(self, row: Row, props: dict) -> list[str]:
        if len(row.tabs) == 1 and row.tabs[0].align == "distribute":
            tab = row.tabs[0]
            props.update(ind=(tab.pos, self.style.text_width - tab.pos - tab.width, 0), jc="distribute")
            return [x for run in tab.runs for x in self.runs_xml(run, row)]
        # A left tab at the margin would jump to the next default stop: start there without one.
        stops = [(t.align, t.pos) for t in row.tabs if not (t.align == "left" and t.pos <= 0)]
        props.update(ind=(0, 0, 0), jc="left", tabs=stops)
        content = []
        for tab in row.tabs:
            if not (tab.align == "left" and tab.pos <= 0):
                content.append("<w:r><w:tab/></w:r>")
            for run in tab.runs:
                content += self.runs_xml(run, row)
        return content

    def runs_xml(self, run: Run, row: Row) -> list[str]:
        fonts = self.run_fonts(run.role)
        runs = []
        for text, latin in _script_pieces(run.text):
            # LibreOffice breaks digits, letters, —— and …… anywhere inside Chinese text;
            # tagged as English they stay whole, as the standard and Word keep them (R-TEXT-3, R-TEXT-5).
            rpr = oxml.rpr_xml(
                fonts, run.size, bold=run.bold, color=run.color, spacing=row.char_spacing, scale=row.horiz_scale,
                english=latin,
            )
            runs.append(oxml.text_run_xml(rpr, text))
        return runs

    def next_id(self) -> int:
        self.shape_id += 1
        return self.shape_id

    def mark_xml(self, mark: RuleMark | PictureMark | TextMark, row: Row) -> str:
        left = self.style.left
        if isinstance(mark, RuleMark):
            y = mark.y(row)
            shapes = [
                oxml.line_shape(self.next_id(), left + x0, left + x1, y, mark.thickness, mark.color)
                for x0, x1 in mark.segments()
            ]
            if mark.star:
                centre = left + (mark.x0 + mark.x1) / 2
                shapes.append(oxml.star_shape(self.next_id(), centre, y, mark.star, mark.color))
            return "".join(shapes)
        if isinstance(mark, PictureMark):
            rel_id, _ = self.document.part.get_or_add_image(str(mark.path))
            return oxml.picture_anchor(
                self.next_id(), rel_id, left + mark.x, row.top + mark.dy, mark.width, mark.height
            )
        assert mark.line is not None
        run = mark.runs[0]
        glyphs = mark.line.glyphs
        width = glyphs[-1].x + glyphs[-1].width - glyphs[0].x
        height = row.line_height
        rpr = oxml.rpr_xml(self.run_fonts(run.role), run.size, color=run.color, spacing=0.0, scale=mark.horiz_scale)
        para = (
            '<w:p><w:pPr><w:widowControl w:val="0"/><w:snapToGrid w:val="0"/>'
            f'<w:spacing w:before="0" w:after="0" w:line="{oxml.twips(height)}" w:lineRule="exact"/>'
            f'<w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="left"/></w:pPr>'
            f"{oxml.text_run_xml(rpr, run.text)}</w:p>"
        )
        top = row.top + mark.centre_dy - height / 2
        return oxml.text_box(self.next_id(), glyphs[0].x, top, width + 2, height, para)

    def table_xml(self, row: Row) -> str:
        """A table of fixed column widths and exact row heights; the header row repeats on each page."""
        box = row.table
        assert box is not None
        el = self.style.element("table")
        style_id = self.element_style("table", Row(kind="table", align="left"))
        borders = "".join(
            f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
            for side in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        pad = oxml.twips(box.padding)
        parts = [
            f'<w:tbl><w:tblPr><w:tblW w:w="{oxml.twips(sum(box.columns))}" w:type="dxa"/>',
            f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>',
            f'<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="{pad}" w:type="dxa"/>',
            f'<w:bottom w:w="0" w:type="dxa"/><w:right w:w="{pad}" w:type="dxa"/></w:tblCellMar>',
            '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
            'w:noHBand="0" w:noVBand="0"/></w:tblPr><w:tblGrid>',
            *(f'<w:gridCol w:w="{oxml.twips(w)}"/>' for w in box.columns),
            "</w:tblGrid>",
        ]
        fonts = self.run_fonts(el.font)
        for table_row, source in zip(box.rows, box.source_rows, strict=True):
            header = "<w:tblHeader/>" if table_row.header else ""
            parts.append(
                f'<w:tr><w:trPr><w:cantSplit/>{header}<w:trHeight w:val="{oxml.twips(table_row.height)}" '
                'w:hRule="exact"/></w:trPr>'
            )
            for i, width in enumerate(box.columns):
                ppr = oxml.ppr_xml(style_id, ind=(0, 0, 0), jc="center" if table_row.header else "left")
                text = source[i] if i < len(source) else ""
                runs = "".join(
                    oxml.text_run_xml(oxml.rpr_xml(fonts, el.size_pt, spacing=0.0, english=latin), piece)
                    for piece, latin in _script_pieces(text)
                )
                parts.append(f'<w:tc><w:tcPr><w:tcW w:w="{oxml.twips(width)}" w:type="dxa"/></w:tcPr>'
                             f"<w:p>{ppr}{runs}</w:p></w:tc>")
            parts.append("</w:tr>")
        parts.append("</w:tbl>")
        return "".join(parts)

    # ------------------------------------------------------------ tail section

    def end_numbered_section(self, last_paragraph: _Element) -> None:
        """Close the numbered section in ``last_paragraph``; the blank and 版记 pages follow unnumbered (R-PGNUM-4)."""
        from copy import deepcopy

        body_sect = self.document.element.body.find(qn("w:sectPr"))
        pp = last_paragraph.get_or_add_pPr()
        oxml.set_p(pp, "w:sectPr")
        pp.replace(pp.find(qn("w:sectPr")), deepcopy(body_sect))

    def unnumbered_tail(self) -> None:
        """The last section gets empty footers of its own, so it does not inherit the page numbers."""
        body_sect = self.document.element.body.find(qn("w:sectPr"))
        for ref in body_sect.findall(qn("w:footerReference")):
            body_sect.remove(ref)  # the numbered section kept its own copy
        tail = self.document.sections[-1]
        tail.footer.is_linked_to_previous = False
        tail.even_page_footer.is_linked_to_previous = False

    # ------------------------------------------------------------ properties

    def properties(self, doc: Document, timestamp: dt.datetime) -> None:
        props = self.document.core_properties
        props.title = doc.title or doc.source.stem
        props.author = doc.meta.author or (doc.signature.issuers[0] if doc.signature.issuers else "")
        props.subject = doc.meta.subject or ""
        props.keywords = doc.meta.keywords or ""
        props.comments = ""
        props.last_modified_by = ""
        props.revision = 1
        props.created = timestamp
        props.modified = timestamp
        props.language = "zh-CN"


def _script_pieces(text: str) -> list[tuple[str, bool]]:
    """Split text into Chinese pieces and (True) runs of ASCII letters, digits and signs, —— or ……."""
    return [(m.group(0), m.group(0)[0] in LATIN_CHARS or m.group(0)[0] in "…—") for m in LATIN_OR_NOT.finditer(text)]


def _fixed_zip(data: bytes, timestamp: dt.datetime) -> bytes:
    """Rewrite the package with fixed entry dates so equal documents are equal bytes."""
    stamp = max(timestamp, dt.datetime(1980, 1, 1)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(item.filename))
    return out.getvalue()
