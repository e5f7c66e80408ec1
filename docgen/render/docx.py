"""DOCX: writes a ``Layout``'s rows as a native, editable Word document.

Takes the rows (paragraphs with exact line heights, spacers of exact
heights) and returns .docx bytes. Every element has a named paragraph style
(正文, 一级标题 …) so a user can restyle the document; page numbers are PAGE
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
from xml.sax.saxutils import escape

import docx
from docx.enum.text import WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table as DocxTable
from lxml.etree import _Element

from docgen.fonts.docx_fonts import clean_docx_fonts, set_run_fonts
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


def render_docx(layout: Layout, doc: Document, style: Style, timestamp: dt.datetime) -> bytes:
    writer = _DocxWriter(style, doc)
    writer.write(layout)
    writer.properties(doc, timestamp)
    buffer = io.BytesIO()
    writer.document.save(buffer)
    return _fixed_zip(buffer.getvalue(), timestamp)


class _DocxWriter:
    def __init__(self, style: Style, doc: Document) -> None:
        self.style = style
        self.doc = doc
        self.document = docx.Document()
        body = self.style.element("body")
        clean_docx_fonts(
            self.document, self.family(body.font), round(body.size_pt * 2), self.style.docx_fonts.values()
        )
        self.drop_template_styles()
        self.shape_id = 0
        # Paragraph style name → styleId. python-docx looks styles up by name
        # through every style of its template, which was most of the build
        # time, so paragraphs get their styleId directly.
        self.style_ids: dict[str, str] = {"Normal": "Normal"}
        self.setup_section()
        self.base_styles()

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
        if kind in ("body", "h1", "h2", "h3", "h4"):
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

    def footers(self, layout: Layout) -> None:
        numbered = [p for p in layout.pages if p.page_number_line is not None]
        section = self.document.sections[-1] if layout.unnumbered_from is None else self.document.sections[0]
        if numbered:
            baseline = numbered[0].page_number_line.baseline  # type: ignore[union-attr]
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
        rpr_xml = (
            f'<w:rPr><w:rFonts w:ascii="{self.family(el.font)}" w:hAnsi="{self.family(el.font)}" '
            f'w:eastAsia="{self.family(el.font)}" w:cs="{self.family(el.font)}"/><w:spacing w:val="0"/>'
            f'<w:sz w:val="{round(el.size_pt * 2)}"/><w:szCs w:val="{round(el.size_pt * 2)}"/></w:rPr>'
        )
        oxml.page_field(p, rpr_xml, before, after)

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
        last_paragraph: _Element | None = None
        for index, row in enumerate(layout.rows):
            section_break = layout.unnumbered_from is not None and index == layout.unnumbered_from
            if section_break and last_paragraph is not None:
                self.end_numbered_section(last_paragraph)
            if row.table is not None:
                self.table(row)
                last_paragraph = None
                continue
            p = self.paragraph(row, page_break=row.page_break_before and not section_break)
            last_paragraph = p
        self.footers(layout)
        if layout.unnumbered_from is not None:
            self.unnumbered_tail()

    def paragraph(self, row: Row, page_break: bool) -> _Element:
        paragraph = self.document.add_paragraph()
        p = paragraph._p
        pp = p.get_or_add_pPr()
        oxml.set_p(pp, "w:pStyle", **{"w:val": self.element_style(row.kind, row)})
        el_line = self.style.elements[row.kind].line_pitch_pt if row.kind in self.style.elements else None
        if page_break:
            oxml.set_p(pp, "w:pageBreakBefore")
        if row.kind in OUTLINE_LEVELS and not row.keep_with_next:
            oxml.set_p(pp, "w:keepNext", **{"w:val": "0"})  # a run-in heading is a paragraph of text
        if not (row.runs or row.tabs) and row.picture is None:
            oxml.exact_line(pp, row.height)
        elif row.picture is not None:
            oxml.set_p(pp, "w:spacing", **{"w:before": "0", "w:after": "0", "w:line": "240", "w:lineRule": "auto"})
            oxml.set_p(pp, "w:jc", **{"w:val": "center"})
            paragraph.add_run().add_picture(str(row.picture), height=Pt(row.height))
        elif float(el_line or self.style.pitch) != row.line_height:
            oxml.exact_line(pp, row.line_height)
        if row.tabs:
            self.tab_runs(paragraph, pp, row)
        elif row.runs:
            if row.kind not in ("body", "h1", "h2", "h3", "h4") or row.left_indent or row.right_indent:
                oxml.indent(pp, row.left_indent, row.right_indent, row.first_indent)
            oxml.set_p(pp, "w:jc", **{"w:val": ALIGN[row.align]})
            for run in row.runs:
                self.run(paragraph, run, row)
        for mark in row.marks:
            self.mark(p, mark, row)
        return p

    def tab_runs(self, paragraph: object, pp: _Element, row: Row) -> None:
        if len(row.tabs) == 1 and row.tabs[0].align == "distribute":
            tab = row.tabs[0]
            oxml.indent(pp, tab.pos, self.style.text_width - tab.pos - tab.width, 0)
            oxml.set_p(pp, "w:jc", **{"w:val": "distribute"})
            for run in tab.runs:
                self.run(paragraph, run, row)
            return
        oxml.indent(pp, 0, 0, 0)
        oxml.set_p(pp, "w:jc", **{"w:val": "left"})
        stops = [(t.align, t.pos) for t in row.tabs if not (t.align == "left" and t.pos <= 0)]
        oxml.tab_stops(pp, stops)
        for tab in row.tabs:
            if not (tab.align == "left" and tab.pos <= 0):
                paragraph.add_run("\t")  # type: ignore[attr-defined]
            for run in tab.runs:
                self.run(paragraph, run, row)

    def run(self, paragraph: object, run: Run, row: Row) -> None:
        for text, latin in _script_pieces(run.text):
            parts = text.split("\n")
            for n, part in enumerate(parts):
                r = paragraph.add_run(part)  # type: ignore[attr-defined]
                if n < len(parts) - 1:
                    r.add_break(WD_BREAK.LINE)
                self.run_properties(r._r.get_or_add_rPr(), run, row, latin)

    def run_properties(self, rpr: _Element, run: Run, row: Row, latin: bool) -> None:
        set_run_fonts(rpr, self.family(run.role), self.latin_family())
        if run.bold:
            oxml.set_r(rpr, "w:b")
        if run.color.upper() != "000000":
            oxml.set_r(rpr, "w:color", **{"w:val": run.color.upper()})
        if row.char_spacing is not None:
            oxml.set_r(rpr, "w:spacing", **{"w:val": str(oxml.twips(row.char_spacing))})
        if row.horiz_scale != 1.0:
            oxml.set_r(rpr, "w:w", **{"w:val": str(round(row.horiz_scale * 100))})
        oxml.set_r(rpr, "w:sz", **{"w:val": str(round(run.size * 2))})
        oxml.set_r(rpr, "w:szCs", **{"w:val": str(round(run.size * 2))})
        if latin:
            # LibreOffice breaks digits, letters, —— and …… anywhere inside Chinese
            # text; tagged as English they stay whole, as the standard and Word keep them (R-TEXT-3, R-TEXT-5).
            oxml.set_r(rpr, "w:lang", **{"w:val": "en-US", "w:eastAsia": "en-US"})

    def next_id(self) -> int:
        self.shape_id += 1
        return self.shape_id

    def mark(self, p: _Element, mark: RuleMark | PictureMark | TextMark, row: Row) -> None:
        left = self.style.left
        if isinstance(mark, RuleMark):
            dy = row.total_height if mark.dy == -1 else mark.dy
            y = row.top + dy
            x0, x1 = left + mark.x0, left + mark.x1
            if mark.star:
                cx, r = (x0 + x1) / 2, mark.star / 2
                p.append(oxml.line_shape(self.next_id(), x0, cx - r * 1.6, y, mark.thickness, mark.color))
                p.append(oxml.line_shape(self.next_id(), cx + r * 1.6, x1, y, mark.thickness, mark.color))
                p.append(oxml.star_shape(self.next_id(), cx, y, mark.star, mark.color))
            else:
                p.append(oxml.line_shape(self.next_id(), x0, x1, y, mark.thickness, mark.color))
        elif isinstance(mark, PictureMark):
            part = self.document.part
            rel_id, _ = part.get_or_add_image(str(mark.path))
            p.append(oxml.picture_anchor(self.next_id(), rel_id, left + mark.x, row.top + mark.dy, mark.width, mark.height))
        elif isinstance(mark, TextMark) and mark.line is not None:
            run = mark.runs[0]
            glyphs = mark.line.glyphs
            width = glyphs[-1].x + glyphs[-1].width - glyphs[0].x
            height = row.line_height
            family = escape(self.family(run.role))
            rpr = (
                f'<w:rPr><w:rFonts w:ascii="{family}" w:hAnsi="{family}" w:eastAsia="{family}" w:cs="{family}"/>'
                f'<w:color w:val="{run.color.upper()}"/><w:spacing w:val="0"/><w:w w:val="{round(mark.horiz_scale * 100)}"/>'
                f'<w:sz w:val="{round(run.size * 2)}"/><w:szCs w:val="{round(run.size * 2)}"/></w:rPr>'
            )
            para = (
                '<w:p><w:pPr><w:widowControl w:val="0"/><w:snapToGrid w:val="0"/>'
                f'<w:spacing w:before="0" w:after="0" w:line="{oxml.twips(height)}" w:lineRule="exact"/>'
                f'<w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="left"/></w:pPr>'
                f"<w:r>{rpr}<w:t>{escape(run.text)}</w:t></w:r></w:p>"
            )
            top = row.top + mark.centre_dy - height / 2
            p.append(oxml.text_box(self.next_id(), glyphs[0].x, top, width + 2, height, para))

    def table(self, row: Row) -> None:
        box = row.table
        assert box is not None
        el = self.style.element("table")
        cols = len(box.columns)
        table: DocxTable = self.document.add_table(rows=0, cols=cols)
        table.autofit = False
        tbl = table._tbl
        tbl_pr = tbl.tblPr
        tbl_pr.append(
            oxml.parse_xml(
                f'<w:tblW {oxml.nsdecls("w")} w:w="{oxml.twips(sum(box.columns))}" w:type="dxa"/>'
            )
        )
        borders = "".join(
            f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
            for side in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        tbl_pr.append(oxml.parse_xml(f'<w:tblBorders {oxml.nsdecls("w")}>{borders}</w:tblBorders>'))
        tbl_pr.append(oxml.parse_xml(f'<w:tblLayout {oxml.nsdecls("w")} w:type="fixed"/>'))
        pad = oxml.twips(box.padding)
        tbl_pr.append(
            oxml.parse_xml(
                f'<w:tblCellMar {oxml.nsdecls("w")}><w:top w:w="0" w:type="dxa"/><w:left w:w="{pad}" w:type="dxa"/>'
                f'<w:bottom w:w="0" w:type="dxa"/><w:right w:w="{pad}" w:type="dxa"/></w:tblCellMar>'
            )
        )
        for i, width in enumerate(box.columns):
            table.columns[i].width = Pt(width)
        style_id = self.element_style("table", Row(kind="table", align="left"))
        for table_row, source in zip(box.rows, box.source_rows, strict=True):
            cells = table.add_row().cells
            tr = table.rows[-1]._tr
            tr_pr = tr.get_or_add_trPr()
            tr_pr.append(oxml.parse_xml(f'<w:cantSplit {oxml.nsdecls("w")}/>'))
            if table_row.header:
                tr_pr.append(oxml.parse_xml(f'<w:tblHeader {oxml.nsdecls("w")}/>'))
            tr_pr.append(
                oxml.parse_xml(f'<w:trHeight {oxml.nsdecls("w")} w:val="{oxml.twips(table_row.height)}" w:hRule="exact"/>')
            )
            for i, cell in enumerate(cells):
                cell.width = Pt(box.columns[i])
                paragraph = cell.paragraphs[0]
                pp = paragraph._p.get_or_add_pPr()
                oxml.set_p(pp, "w:pStyle", **{"w:val": style_id})
                oxml.indent(pp, 0, 0, 0)
                oxml.set_p(pp, "w:jc", **{"w:val": "center" if table_row.header else "left"})
                text = source[i] if i < len(source) else ""
                r = paragraph.add_run(text)
                rpr = r._r.get_or_add_rPr()
                oxml.set_r(rpr, "w:spacing", **{"w:val": "0"})
                oxml.set_r(rpr, "w:sz", **{"w:val": str(round(el.size_pt * 2))})

    # ------------------------------------------------------------ tail section

    def end_numbered_section(self, last_paragraph: _Element) -> None:
        """Close the numbered section in ``last_paragraph``; the blank and 版记 pages follow unnumbered (R-PGNUM-4)."""
        from copy import deepcopy

        body_sect = self.document.element.body.find(qn("w:sectPr"))
        pp = last_paragraph.get_or_add_pPr()
        oxml.set_p(pp, "w:sectPr")
        pp.replace(pp.find(qn("w:sectPr")), deepcopy(body_sect))

    def unnumbered_tail(self) -> None:
        """The last section has empty footers of its own, so it does not inherit the page numbers."""
        from copy import deepcopy

        body = self.document.element.body
        body_sect = body.find(qn("w:sectPr"))
        first_sect = None
        for p in body.iterchildren(qn("w:p")):
            found = p.find(qn("w:pPr") + "/" + qn("w:sectPr"))
            if found is not None:
                first_sect = found
        assert first_sect is not None
        # The numbered section got its footers on the body sectPr; move them.
        for ref in body_sect.findall(qn("w:footerReference")):
            first_sect.insert(0, deepcopy(ref))
            body_sect.remove(ref)
        first_sect.find(qn("w:pgMar")).set(qn("w:footer"), body_sect.find(qn("w:pgMar")).get(qn("w:footer")))
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
