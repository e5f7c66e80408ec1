"""The flow: a ``Document`` and a ``Style`` to the ordered rows of a 公文.

Takes the model and returns ``Row``s (paragraphs with exact line heights and
spacers of exact heights) in reading order, grouped as the main part, the
attachments and the 版记. Vertical distances of the standard ("下空二行",
"4 mm below the number") become spacer heights here, computed from where
each element's em box lies in its line (``Geometry``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image as PILImage  # Pillow comes with reportlab

from docgen.layout.boxes import AT_ROW_BOTTOM, PictureMark, Row, RuleMark, Run, Tab, TextMark
from docgen.layout.linebreak import Atom, natural_width
from docgen.layout.numbering import HeadingCounter, chinese_date
from docgen.layout.shaping import Shaper
from docgen.model import Attachment, Block, Document, Heading, Image, Loc, PageBreak, Paragraph, Table
from docgen.style import MM, ElementStyle, Style

EM_ASCENT = 0.88  # share of the em box above the baseline (spec §1.2)
# Sets of title breaks compared at most: a title of two to four lines has far fewer;
# one of ten lines would have billions.
TITLE_SEARCH_LIMIT = 20_000


@dataclass
class Flow:
    main: list[Row] = field(default_factory=list)
    attachments: list[list[Row]] = field(default_factory=list)
    colophon: list[Row] = field(default_factory=list)


class Geometry:
    """Where text sits inside a line box of exact height (calibrated on LibreOffice)."""

    def __init__(self, style: Style) -> None:
        self.ratio = float(style.grid.baseline_ratio)
        self.pitch = style.pitch

    def baseline(self, line_height: float, size: float) -> float:
        """Baseline below the top of a line box of exact ``line_height``.

        LibreOffice puts it at 80 % of the box whatever the font size (measured
        for 10–42 pt text in 20–100 pt boxes); ``size`` is kept for renderers
        that centre the em box instead.
        """
        del size
        return line_height * self.ratio

    def em_top(self, line_height: float, size: float) -> float:
        return self.baseline(line_height, size) - EM_ASCENT * size

    def em_bottom(self, line_height: float, size: float) -> float:
        return self.baseline(line_height, size) + (1 - EM_ASCENT) * size

    def gap(self, blank_lines: int) -> float:
        """G(N): em-bottom to em-top when the standard says 下空 N 行 (spec §1.6)."""
        return (blank_lines + 1) * self.pitch - 16


def spacer(height: float) -> Row:
    """An empty paragraph of exact height; whole twips, as the .docx can only say that."""
    return Row(kind="spacer", height=max(0.0, math.floor(height * 20 + 1e-6) / 20))


class FlowBuilder:
    def __init__(self, doc: Document, style: Style, shaper: Shaper) -> None:
        self.doc = doc
        self.style = style
        self.shaper = shaper
        self.geo = Geometry(style)
        self.cw = style.char_width  # one 字 of the grid
        self.pitch = style.pitch

    # ------------------------------------------------------------ helpers

    def run(self, element: str, text: str) -> Run:
        el = self.style.element(element)
        # R-FONT-4: no bold, unless the style asks for the office practice of bold 楷体/仿宋 headings.
        bold = el.bold or (element in ("h2", "h3") and bool(self.style.body.practice_bold))
        return Run(text=text, role=el.font, size=el.size_pt, color=el.color, bold=bold)

    def line_height(self, element: str) -> float:
        el = self.style.element(element)
        return float(el.line_pitch_pt or self.pitch)

    def row(self, element: str, text: str, loc: Loc | str | None = None, **kw: object) -> Row:
        """A row of one element; ``loc`` (a source position or a doc.locs key) names it in warnings."""
        row = Row(kind=element, runs=[self.run(element, text)], line_height=self.line_height(element))
        row.where = self.where(element, loc)
        for key, value in kw.items():
            setattr(row, key, value)
        return row

    def where(self, element: str, loc: Loc | str | None) -> str:
        label = self.style.elements[element].docx_style if element in self.style.elements else element
        if isinstance(loc, str):
            loc = self.doc.locs.get(loc)
        return f"{loc} {label}" if loc else f"{self.doc.source.name} {label}"

    def width(self, runs: list[Run], where: str, spacing: bool = True) -> float:
        atoms: list[Atom] = self.shaper.shape(runs, where, spacing, report=False)
        return natural_width(atoms)

    def el(self, name: str) -> ElementStyle:
        return self.style.element(name)

    # ------------------------------------------------------------ build

    def build(self) -> Flow:
        flow = Flow()
        rows = flow.main
        if self.style.header.enabled:
            rows += self.header()
        rows += self.title_rows(self.doc.title, self.doc.title_lines, "title", "title")
        if self.doc.recipients:
            rows.append(spacer(self.pitch * self.style.body.recipients_gap_lines))
            rows.append(self.row("recipients", self.recipients_text(), "recipients", align="both"))
        elif self.doc.body:
            rows.append(spacer(self.pitch))
        rows += self.blocks(self.doc.body)
        if self.doc.attachments:
            rows.append(spacer(self.pitch))
            rows += self.attachment_list()
        rows += self.signature()
        if self.doc.note:
            note = self.doc.note.strip()
            if not note.startswith(("（", "(")):
                note = f"（{note}）"
            rows.append(self.row("note", note, "note", first_indent=2 * self.cw))
        for index, attachment in enumerate(self.doc.attachments, start=1):
            flow.attachments.append(self.attachment(index, attachment))
        flow.colophon = self.colophon()
        return flow

    # ------------------------------------------------------------ 版头

    def header(self) -> list[Row]:
        h = self.doc.header
        rows: list[Row] = []
        used = 0.0
        slots: list[Row | None] = [None, None, None]
        if h.copy_no:
            slots[0] = self.row("copy_no", h.copy_no, align="left")
        if h.secrecy:
            slots[1] = self.row("secrecy", h.secrecy, align="left")
        if h.urgency:
            # R-HDR-3: alone on line 1, otherwise on the line after the last one used.
            filled = [i for i, s in enumerate(slots) if s is not None]
            slots[(filled[-1] + 1) if filled else 0] = self.row("urgency", h.urgency, align="left")
        last = max((i for i, s in enumerate(slots) if s is not None), default=-1)
        for slot in slots[: last + 1]:
            rows.append(slot if slot is not None else spacer(self.pitch))
            used += self.pitch
        if not h.issuer_mark:
            return rows
        mark_lh = self.line_height("issuer_mark")
        mark_top = self.style.header.mark_top_mm * MM  # R-HDR-6, below the 版心 top
        mark_rows, mark_height, mark_size = self.issuer_mark()
        rows.append(spacer(mark_top - self.geo.em_top(mark_lh, mark_size) - used))
        rows += mark_rows
        mark_em_bottom = self.geo.em_bottom(mark_lh, mark_size) + mark_height - mark_lh
        gap_lines = int(self.style.header.doc_number_gap_lines)
        number_el = self.el("doc_number")
        # R-HDR-10: 文号 em-top G(2) below the mark's em-bottom.
        before_number = mark_em_bottom + self.geo.gap(gap_lines) - self.geo.em_top(self.pitch, number_el.size_pt)
        rows.append(spacer(before_number - mark_height))
        number_rows = self.number_rows()
        rows += number_rows
        number_em_bottom = self.geo.em_bottom(self.pitch, number_el.size_pt)
        rule_y = number_em_bottom + self.style.header.rule_gap_mm * MM  # R-HDR-13
        title_el = self.el("title")
        title_lh = self.line_height("title")
        title_gap = self.geo.gap(int(self.style.header.title_gap_lines))  # R-TITLE-1
        after = rule_y + title_gap - self.geo.em_top(title_lh, title_el.size_pt) - self.pitch
        rule_row = spacer(after)
        rule_row.kind = "header_rule"
        thickness = self.style.header.rule_thickness_mm * MM
        star = self.style.header.star_size_mm * MM if self.style.header.party_star else 0.0
        rule_row.marks.append(
            RuleMark(0, self.style.text_width, rule_y - self.pitch, thickness, self.style.color("red"), star)
        )
        rows.append(rule_row)
        return rows

    def issuer_mark(self) -> tuple[list[Row], float, float]:
        """The red 发文机关标志; a long name is compressed to fit, never wrapped (R-HDR-7).

        Returns the rows, their height and the font size used: below the
        style's smallest compression the characters get smaller instead.
        """
        names = self.doc.header.issuer_mark
        el = self.el("issuer_mark")
        lh = self.line_height("issuer_mark")
        max_width = min(self.style.header.mark_max_width_mm * MM, self.style.text_width)

        def mark_width(text: str) -> float:
            return self.width([self.run("issuer_mark", text)], "发文机关标志", spacing=False) if text else 0.0

        if len(names) == 1:
            natural = mark_width(names[0])
            scale = self.fit_scale(natural, max_width)
            size = el.size_pt
            min_scale = float(self.style.header.mark_min_scale)
            if scale < min_scale:
                size = math.floor(el.size_pt * scale / min_scale * 2) / 2  # whole half points, as .docx sizes are
                scale = self.fit_scale(natural * size / el.size_pt, max_width)
            row = self.row("issuer_mark", names[0], align="center", horiz_scale=scale)
            row.runs = [Run(r.text, r.role, size, r.color, r.bold) for r in row.runs]
            return [row], lh, size
        # Joint issuing (R-HDR-8): names stacked one a line, justified to equal
        # width; 文件 to their right, centred on the block of names.
        suffix = ""
        if all(n.endswith("文件") for n in names):
            suffix = "文件"
            names = [n[: -len(suffix)] for n in names]
        name_width = max(mark_width(n) for n in names)
        suffix_width = mark_width(suffix)
        gap = el.size_pt * 0.5 if suffix else 0
        scale = self.fit_scale(name_width + gap + suffix_width, max_width)
        block_width = (name_width + gap + suffix_width) * scale
        x0 = (self.style.text_width - block_width) / 2
        rows = [
            Row(
                kind="issuer_mark",
                tabs=[Tab(x0, "distribute", [self.run("issuer_mark", name)], width=name_width * scale)],
                line_height=lh,
                horiz_scale=scale,
            )
            for name in names
        ]
        if suffix:
            # 文件 is drawn once, its centre level with the centre of the names.
            rows[0].marks.append(
                TextMark(
                    x0 + (name_width + gap) * scale,
                    len(names) * lh / 2,
                    [self.run("issuer_mark", suffix)],
                    scale,
                    self.geo.baseline(lh, el.size_pt) - lh / 2,
                )
            )
        return rows, lh * len(names), el.size_pt

    @staticmethod
    def fit_scale(natural: float, max_width: float) -> float:
        if natural <= max_width:
            return 1.0
        # .docx stores the character scale as a whole percent; use the same value in the PDF.
        return math.floor(max_width / natural * 100) / 100

    def number_rows(self) -> list[Row]:
        h = self.doc.header
        number = h.doc_number or ""
        if not h.signers:
            return [self.row("doc_number", number, align="center")]
        # 上行文 (R-HDR-11, R-HDR-12): number 1 字 in from the left, 签发人 and
        # names right-aligned 1 字 in from the right, two names a line, the
        # number on the line of the last names.
        indent = self.style.header.signer_indent_chars * self.cw
        label = self.run("signer_label", "签发人：")
        # The label and the first names are one piece of text, so no tab stop
        # has to fall exactly where the label ends (Word and LibreOffice would
        # jump to the next stop if it fell short by a hair).
        label_advance = sum(a.advance for a in self.shaper.shape([label], "签发人", report=False))
        pairs = [h.signers[i : i + 2] for i in range(0, len(h.signers), 2)]
        names_text = ["\u3000".join(p) for p in pairs]
        names_width = max(self.width([self.run("signer_name", t)], "签发人") for t in names_text)
        start = self.style.text_width - indent - names_width - label_advance
        rows = []
        for i, text in enumerate(names_text):
            names = self.run("signer_name", text)
            tabs = [Tab(start, "left", [label, names]) if i == 0 else Tab(start + label_advance, "left", [names])]
            if i == len(names_text) - 1:
                tabs.insert(0, Tab(indent, "left", [self.run("doc_number", number)]))
            rows.append(Row(kind="doc_number", tabs=tabs, line_height=self.pitch))
        return rows

    # ------------------------------------------------------------ 主体

    def title_rows(self, title: str, explicit: list[str] | None, element: str, loc: Loc | str | None) -> list[Row]:
        if not title and not explicit:
            return []
        el = self.el(element)
        max_width = self.style.text_width - 2 * el.size_pt  # practice: no completely full line (R-TITLE-2)
        lines = explicit or self.break_title(title, max_width, element)
        return [self.row(element, "\n".join(lines), loc, align="center", char_spacing=0.0)]

    def break_title(self, title: str, max_width: float, element: str) -> list[str]:
        """Break a long title between words, longer line on top (R-TITLE-2).

        Breaks after 关于, after 、 and ，, and before 的 + the document type are
        preferred; other word boundaries (from a dictionary) cost a little;
        never inside a number, a Latin word or 《》.
        """
        measured: dict[str, float] = {}

        def width(text: str) -> float:
            if text not in measured:
                measured[text] = self.width([self.run(element, text)], "标题", spacing=False)
            return measured[text]

        total = width(title)
        if total <= max_width:
            return [title]
        strong = title_break_points(title)
        weak = [p for p in word_boundaries(title) if p not in strong]
        penalty = {p: 0.0 for p in strong} | {p: self.el(element).size_pt * 1.5 for p in weak}
        candidates = sorted(penalty)
        needed = math.ceil(total / max_width)
        for count in range(needed, needed + 3):
            if math.comb(len(candidates), count - 1) > TITLE_SEARCH_LIMIT:
                # A title of many lines (beyond what R-TITLE-2 has in mind): fill the lines in turn.
                return _fill_lines(title, candidates, width, max_width) or _cut_evenly(title, needed)
            best: list[str] | None = None
            best_score = math.inf
            for cuts in itertools.combinations(candidates, count - 1):
                parts = [title[a:b] for a, b in itertools.pairwise((0, *cuts, len(title)))]
                widths = [width(p) for p in parts]
                if max(widths) > max_width:
                    continue
                score = max(widths) - min(widths) + sum(penalty[c] for c in cuts)
                score += sum(0.3 * (b - a) for a, b in itertools.pairwise(widths) if b > a)  # prefer 上长下短
                if score < best_score:
                    best, best_score = parts, score
            if best is not None:
                return best
        return _cut_evenly(title, needed)  # no boundary fits at all

    def recipients_text(self) -> str:
        return "，".join(self.doc.recipients).rstrip("：:") + "："

    def blocks(self, blocks: list[Block]) -> list[Row]:
        rows: list[Row] = []
        counter = HeadingCounter()
        keep_numbers = self.style.body.heading_numbers == "keep"
        for block in blocks:
            if isinstance(block, Paragraph):
                rows.append(self.row("body", block.text, block.loc, first_indent=2 * self.cw))
            elif isinstance(block, Heading):
                element = f"h{block.level}"
                number = counter.next(block.level)
                if keep_numbers and block.number:
                    number = block.number
                runs = [self.run(element, number + block.text)]
                if block.run_in:
                    runs.append(self.run("body", block.run_in))
                row = Row(kind=element, runs=runs, line_height=self.pitch, first_indent=2 * self.cw)
                row.where = self.where(element, block.loc)
                row.keep_with_next = not block.run_in
                rows.append(row)
            elif isinstance(block, PageBreak):
                rows.append(Row(kind="page_break", page_break_before=True, height=0))
            elif isinstance(block, Image):
                rows.append(self.image_row(block))
            elif isinstance(block, Table):
                cells = ([block.header] if block.header else []) + block.rows
                rows.append(Row(kind="table", table_cells=cells, table_header=bool(block.header)))
        return rows

    def image_row(self, image: Image) -> Row:
        with PILImage.open(image.path) as im:
            w_px, h_px = im.size
        width = min((image.width_mm or 156) * MM, self.style.text_width)
        height = width * h_px / w_px
        return Row(
            kind="image", picture=image.path, picture_width=width, height=height, align="center", line_height=height
        )

    def attachment_list(self) -> list[Row]:
        """附件说明 (R-ATTN-1/2): 2 字 in; wrapped names continue under the name's first character."""
        titles = [a.title for a in self.doc.attachments]
        label = "附件："
        label_w = self.width([self.run("attachment_list", label)], "附件说明")
        base = 2 * self.cw
        rows = []
        for i, title in enumerate(titles, start=1):
            prefix = f"{i}." if len(titles) > 1 else ""
            prefix_w = self.width([self.run("attachment_list", prefix)], "附件说明") if prefix else 0
            if i == 1:
                text = label + prefix + title
                first, left = base, base + label_w + prefix_w
            else:
                text = prefix + title
                first, left = base + label_w, base + label_w + prefix_w
            rows.append(
                self.row("attachment_list", text, left_indent=left, first_indent=first - left, align="both")
            )
        return rows

    # ------------------------------------------------------------ 落款

    def signature(self) -> list[Row]:
        sig = self.doc.signature
        if not sig.issuers and not sig.date:
            return []
        date_text = chinese_date(sig.date) if sig.date else ""
        if sig.seals:
            return self.sealed_signature(date_text)
        return self.unsealed_signature(date_text)

    def unsealed_signature(self, date_text: str) -> list[Row]:
        """R-SIG-3/4: 署名 右空二字, the date 2 字 right of the 署名's first character."""
        issuers = self.doc.signature.issuers
        two = 2 * self.cw
        right = self.style.text_width
        name_w = max((self.width([self.run("signature", n)], "署名") for n in issuers), default=0)
        date_w = self.width([self.run("date", date_text)], "成文日期") if date_text else 0
        name_x = min(right - two - name_w, right - two - date_w - two)
        rows = [spacer(self.pitch * self.style.signature.unsealed_gap_lines)]
        for name in issuers:
            rows.append(self.row("signature", name, align="left", left_indent=name_x))
        if date_text:
            rows.append(self.row("date", date_text, align="left", left_indent=name_x + two if issuers else name_x))
        return rows

    def sealed_signature(self, date_text: str) -> list[Row]:
        """R-SIG-1/2: date 右空四字; each seal over its name, the last also over the date."""
        sig = self.doc.signature
        four = self.style.signature.sealed_date_right_chars * self.cw
        right = self.style.text_width
        diameter = self.style.signature.seal_diameter_mm * MM
        date_w = self.width([self.run("date", date_text)], "成文日期")
        date_centre = right - four - date_w / 2
        # The names' line must lie below the seal's centre, the seal top within
        # one line of the text: take as few blank lines as that allows.
        blank = max(1, math.ceil((diameter / 2 - self.pitch / 2 + 0.1 * self.pitch) / self.pitch))
        name_centre_dy = self.pitch / 2  # within the names row
        seal_top_dy = name_centre_dy + 4 - diameter / 2  # seal centre 4 pt above the names' centre line
        rows = [spacer(blank * self.pitch)]
        issuers = sig.issuers or [""]
        seals = list(sig.seals) + [sig.seals[-1]] * (len(issuers) - len(sig.seals))
        # Joint issuing: names side by side, the last centred on the date, others to its left.
        slot = diameter + 3 * MM  # seals may not touch (R-SIG-2); 3 mm apart
        centres = [date_centre - slot * (len(issuers) - 1 - i) for i in range(len(issuers))]
        tabs = [Tab(c, "center", [self.run("signature", n)]) for c, n in zip(centres, issuers, strict=True)]
        names = Row(kind="signature", tabs=tabs, line_height=self.pitch)
        for centre, seal in zip(centres, seals, strict=True):
            names.marks.append(PictureMark(seal, centre - diameter / 2, seal_top_dy, diameter, diameter))
        rows.append(names)
        rows.append(self.row("date", date_text, align="right", right_indent=four))
        return rows

    # ------------------------------------------------------------ 附件

    def attachment(self, index: int, attachment: Attachment) -> list[Row]:
        count = len(self.doc.attachments)
        label = "附件" if count == 1 else f"附件{index}"
        rows = [self.row("attachment_label", label, align="left", page_break_before=True)]
        rows.append(spacer(self.pitch))  # R-ATT-3: the title on line 3
        rows += self.title_rows(attachment.title, None, "attachment_title", attachment.loc)
        rows.append(spacer(self.pitch))
        rows += self.blocks(attachment.body)
        return rows

    # ------------------------------------------------------------ 版记

    def colophon(self) -> list[Row]:
        """R-END-1..9: thick — [抄送] — thin — 印发 row — thick, each row one line high."""
        c = self.doc.colophon
        if c.is_empty():
            return []
        cfg = self.style.colophon
        indent = cfg.indent_chars * self.cw
        height = float(cfg.row_height_pt)
        width = self.style.text_width
        thick, thin = cfg.thick_mm * MM, cfg.thin_mm * MM
        black = self.style.color("black")
        rows: list[Row] = []
        if c.cc:
            label = "抄送："
            label_w = self.width([self.run("colophon", label)], "抄送")
            text = label + "，".join(c.cc).rstrip("。.") + "。"
            rows.append(
                self.row(
                    "colophon",
                    text,
                    align="both",
                    left_indent=indent + label_w,
                    first_indent=-label_w,
                    right_indent=indent,
                    line_height=height,
                )
            )
        tabs = []
        if c.printer:
            tabs.append(Tab(indent, "left", [self.run("colophon", c.printer)]))
        if c.print_date:
            tabs.append(Tab(width - indent, "right", [self.run("colophon", chinese_date(c.print_date) + "印发")]))
        printed = Row(kind="colophon", tabs=tabs, line_height=height)
        if tabs:
            rows.append(printed)
        rows[0].marks.append(RuleMark(0, width, 0, thick, black))
        if c.cc and tabs:
            printed.marks.append(RuleMark(0, width, 0, thin, black))
        rows[-1].marks.append(RuleMark(0, width, AT_ROW_BOTTOM, thick, black))
        return rows


def _fill_lines(
    title: str, candidates: list[int], width: Callable[[str], float], max_width: float
) -> list[str] | None:
    """Each line as long as it may be, breaking only at ``candidates``; None when a piece fits no line."""
    lines: list[str] = []
    start = 0
    while width(title[start:]) > max_width:
        end = None
        for point in candidates:
            if point <= start:
                continue
            if width(title[start:point]) > max_width:
                break
            end = point
        if end is None:
            return None
        lines.append(title[start:end])
        start = end
    return [*lines, title[start:]]


def _cut_evenly(title: str, count: int) -> list[str]:
    per = math.ceil(len(title) / count)
    return [title[i : i + per] for i in range(0, len(title), per)]


def title_break_points(title: str) -> list[int]:
    """Indexes where a title may break: after 关于, after 、，, before 的+文种, never inside 《》 or a number."""
    points = set()
    depth = 0
    doc_types = ("通知", "意见", "报告", "请示", "决定", "办法", "规定", "方案", "批复", "通报", "公告", "函", "纪要")
    for i, ch in enumerate(title):
        if ch == "《":
            depth += 1
        elif ch == "》":
            depth -= 1
        if depth:
            continue
        if (i > 0 and title[i - 1] in "、，》") or title[max(0, i - 2) : i] == "关于":
            points.add(i)
        if ch == "的" and any(title.startswith(t, i + 1) for t in doc_types):
            points.add(i)
        if ch in "和及与" and i > 2:
            points.add(i)
    return sorted(p for p in points if 0 < p < len(title) and not (title[p - 1].isdigit() and title[p].isdigit()))


def word_boundaries(text: str) -> list[int]:
    """Word boundaries from jieba's dictionary, outside numbers, Latin words and 《》.

    jieba is the standard Chinese word segmenter; it is loaded only when a
    title needs breaking, as its dictionary takes about a second to load.
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    points, position, depth = [], 0, 0
    for word in jieba.cut(text):
        depth += word.count("《") - word.count("》")
        position += len(word)
        # A number keeps its unit: 2023年度, 5号 (R-TEXT-5 in spirit).
        if depth == 0 and 0 < position < len(text) and not text[position - 1].isascii():
            points.append(position)
    return points
