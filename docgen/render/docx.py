"""DOCX: writes a ``Layout``'s rows as a native, editable Word document.

Takes the rows (paragraphs with exact line heights, spacers of exact
heights) and returns .docx bytes. Every element has a named paragraph style
(公文正文, 一级标题 …) so a user can restyle the document; page numbers are PAGE
fields in odd and even footers; the section carries the page geometry and the
lines-only document grid that makes Word, WPS and LibreOffice lay the text on
the same 22 × 28 grid as the PDF. Rules, seals and the 文件 of a joint mark
float at the page positions the layout computed.

python-docx builds what does not depend on the document once per style: the
package with the styles, the section and the page-number footers (``_Base``).
A document is that package as text: its own ``word/document.xml`` and
``docProps/core.xml`` joined from strings, plus the pictures and the footers of
an unnumbered tail, zipped by hand around parts compressed once. Reopening and
saving the package through python-docx took three quarters of a document's time.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.image.image import Image
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.spec import default_content_types
from docx.oxml.ns import nsdecls, qn
from docx.parts.hdrftr import FooterPart
from lxml import etree
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

# The parts of python-docx's package a document writes or adds to.
DOCUMENT_PART = "word/document.xml"
RELS_PART = "word/_rels/document.xml.rels"
CORE_PART = "docProps/core.xml"
TYPES_PART = "[Content_Types].xml"
XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"  # as lxml writes it for python-docx
TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
FOOTER_REFERENCE = re.compile(r"<w:footerReference [^>]*/>")
# The namespaces the body uses undeclared: python-docx's w:document declares them.
BODY_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
}
# A drawing's a: and pic: are not: each paragraph that draws declares them, where lxml put them
# when the body was parsed into python-docx's document.
DRAWING_NS = " " + nsdecls("a")
PICTURE_NS = " " + nsdecls("a", "pic")

# An element without a docx_style in the style file gets a paragraph style of its
# own, shaped by the first row that uses it: (kind, align, first indent, spacing).
Extra = tuple[str, str, float, float | None]


def render_docx(layout: Layout, doc: Document, style: Style, timestamp: dt.datetime) -> bytes:
    writer = _DocxWriter(style, _footer_baseline(layout))
    return writer.package(writer.body(layout), doc, timestamp)


def _footer_baseline(layout: Layout) -> float | None:
    return next((p.page_number_line.baseline for p in layout.pages if p.page_number_line is not None), None)


# ---------------------------------------------------------------- the zip


@dataclass(frozen=True, slots=True)
class _Entry:
    """A part as it goes into the zip: raw deflate data, with the CRC and size the headers need."""

    crc: int
    size: int
    data: bytes


def _deflate(data: bytes) -> _Entry:
    # zipfile's setting (the default level): the package has the bytes zipfile.writestr would give it
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return _Entry(zlib.crc32(data), len(data), compressor.compress(data) + compressor.flush())


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_END_RECORD = struct.Struct("<4s4H2LH")


def _zip(entries: list[tuple[str, _Entry]], timestamp: dt.datetime) -> bytes:
    """The zip file zipfile writes for these entries: version 2.0, Unix, mode 0644, no extra fields, no
    data descriptors, every entry dated ``timestamp`` so equal documents are equal bytes.

    By hand because zipfile cannot take data compressed already, and the parts
    every document shares are compressed once per process.
    """
    year, month, day, hour, minute, second = max(timestamp, dt.datetime(1980, 1, 1)).timetuple()[:6]
    date = (year - 1980) << 9 | month << 5 | day
    time = hour << 11 | minute << 5 | second // 2
    chunks: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for name, entry in entries:
        filename = name.encode("ascii")  # ASCII names: no UTF-8 flag
        fields = (0, zipfile.ZIP_DEFLATED, time, date, entry.crc, len(entry.data), entry.size, len(filename), 0)
        local = _LOCAL_HEADER.pack(b"PK\x03\x04", 20, 0, *fields)
        directory.append(_CENTRAL_HEADER.pack(b"PK\x01\x02", 20, 3, 20, 0, *fields, 0, 0, 0, 0o644 << 16, offset))
        directory.append(filename)
        chunks += (local, filename, entry.data)
        offset += len(local) + len(filename) + len(entry.data)
    central = b"".join(directory)
    chunks += (central, _END_RECORD.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), offset, 0))
    return b"".join(chunks)


def _content_types(defaults: dict[str, str], overrides: dict[str, str]) -> bytes:
    """[Content_Types].xml as python-docx writes it: defaults by extension, overrides by part name."""
    items = [f'<Default Extension="{ext}" ContentType="{ct}"/>' for ext, ct in sorted(defaults.items())]
    items += [f'<Override PartName="{name}" ContentType="{ct}"/>' for name, ct in sorted(overrides.items())]
    return f'{XML_DECLARATION}<Types xmlns="{TYPES_NS}">{"".join(items)}</Types>'.encode()


def _text(value: str) -> str:
    """Element text escaped as lxml escapes it."""
    return escape(value).replace("\r", "&#13;")


# ---------------------------------------------------------------- the base package


@dataclass
class _Base:
    """The package every document of one style starts from, taken apart into text and compressed parts."""

    style_ids: dict[str, str]  # paragraph style name → styleId
    order: list[str]  # part names in zip order
    entries: dict[str, _Entry]  # every part, compressed
    new_parts_at: int  # index in ``order`` where the parts a document adds go (after the main part's own)
    head: str  # word/document.xml before the body's content
    sect: str  # the body's w:sectPr
    sect_head: str  # the w:sectPr before its footer references
    sect_tail: str  # and after them
    foot: str  # word/document.xml after the w:sectPr
    rels: str  # word/_rels/document.xml.rels
    part_names: frozenset[str]
    rel_ids: frozenset[str]
    defaults: dict[str, str]  # [Content_Types].xml: extension → content type
    overrides: dict[str, str]  # and part name → content type
    core: list[str]  # docProps/core.xml cut around its fields: text, field name, text …
    empty_footer: _Entry  # the footer python-docx makes for a section unlinked from the previous one


# One per style and page-number position (and the rare extra styles): documents of
# a batch differ only in their body, so each starts from these parts.
_BASES: dict[tuple[str, str, float, tuple[Extra, ...]], _Base] = {}

# Stand-ins for the core properties in the base's docProps/core.xml.
_CORE_FIELDS = ("title", "creator", "subject", "keywords")
_CORE_FIELD = re.compile("\ue000(\\w+)\ue001")
_CORE_SENTINEL_TIME = dt.datetime(1901, 2, 3, 4, 5, 6)
_W3CDTF = "%Y-%m-%dT%H:%M:%SZ"  # python-docx's format for created and modified


def _base(style: Style, footer_baseline: float | None, extras: tuple[Extra, ...] = ()) -> _Base:
    key = (str(style.source), style.name, round(footer_baseline or 0.0, 3), extras)
    if key not in _BASES:
        _BASES[key] = _take_apart(*_BaseBuilder(style).build(footer_baseline, extras))
    return _BASES[key]


def _take_apart(package: bytes, style_ids: dict[str, str]) -> _Base:
    """What python-docx saved, as the pieces a document is joined from.

    The package goes once through what each document used to: reopened, the
    template's paragraphs dropped, the core properties set (here to stand-ins),
    saved. So every part a document does not change is the bytes it had then.
    """
    document = docx.Document(io.BytesIO(package))
    body = document.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    props = document.core_properties
    for name in _CORE_FIELDS:
        setattr(props, "author" if name == "creator" else name, f"\ue000{name}\ue001")
    props.comments = ""
    props.last_modified_by = ""
    props.revision = 1
    props.created = props.modified = _CORE_SENTINEL_TIME
    props.language = "zh-CN"
    empty_footer = _deflate(FooterPart.new(document.part.package).blob)
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        order = z.namelist()
        parts = {name: z.read(name) for name in order}

    xml = parts[DOCUMENT_PART].decode()
    start = xml.rindex("<w:sectPr")
    end = xml.index("</w:sectPr>", start) + len("</w:sectPr>")
    sect = xml[start:end]
    first_ref = FOOTER_REFERENCE.search(sect)
    assert first_ref is not None, "the base section has its page-number footers"
    assert all(f'xmlns:{prefix}="{uri}"' in xml[:start] for prefix, uri in BODY_NS.items()), "the body's namespaces"

    rels = parts[RELS_PART].decode()
    assert rels.endswith("</Relationships>")
    types = etree.fromstring(parts[TYPES_PART])
    defaults = {el.get("Extension"): el.get("ContentType") for el in types if el.tag.endswith("Default")}
    overrides = {el.get("PartName"): el.get("ContentType") for el in types if el.tag.endswith("Override")}
    assert _content_types(defaults, overrides) == parts[TYPES_PART], "content types written as python-docx does"

    # Parts a document adds hang from the main part: python-docx writes them after
    # its other parts, before the next part the package itself points to.
    top = {r.get("Target") for r in etree.fromstring(parts["_rels/.rels"])}
    after = [i for i, name in enumerate(order) if i > order.index(DOCUMENT_PART) and name in top]

    core = parts[CORE_PART].decode().replace(_CORE_SENTINEL_TIME.strftime(_W3CDTF), "\ue000date\ue001")
    return _Base(
        style_ids=style_ids,
        order=order,
        entries={name: _deflate(data) for name, data in parts.items()},
        new_parts_at=after[0] if after else len(order),
        head=xml[:start],
        sect=sect,
        sect_head=sect[: first_ref.start()],
        sect_tail=FOOTER_REFERENCE.sub("", sect[first_ref.start() :]),
        foot=xml[end:],
        rels=rels,
        part_names=frozenset(order),
        rel_ids=frozenset(r.get("Id") for r in etree.fromstring(parts[RELS_PART])),
        defaults=defaults,
        overrides=overrides,
        core=_CORE_FIELD.split(core),
        empty_footer=empty_footer,
    )


def _family(style: Style, role: str) -> str:
    return style.docx_fonts.get(role, style.docx_fonts["fangsong"])


def _style_name(style: Style, kind: str) -> str:
    """The paragraph style of a row kind: the element's named style, or a shared one."""
    if kind == "spacer" or kind not in style.elements:
        return SPACER_STYLE if kind in ("spacer", "header_rule", "blank_page", "page_break") else "Normal"
    return style.element(kind).docx_style or kind


class _BaseBuilder:
    """python-docx builds the package of a style: cleaned template, named styles, section, footers."""

    def __init__(self, style: Style) -> None:
        self.style = style
        self.document = docx.Document()
        self.style_ids = {"Normal": "Normal"}

    def build(self, footer_baseline: float | None, extras: tuple[Extra, ...]) -> tuple[bytes, dict[str, str]]:
        """The package every document of this style starts from, and its style ids."""
        body = self.style.element("body")
        clean_docx_fonts(
            self.document, self.family(body.font), round(body.size_pt * 2), self.style.docx_fonts.values()
        )
        self.drop_template_styles()
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
        for kind, align, first_indent, char_spacing in extras:  # after the footers, as documents made them
            self.element_style(kind, Row(kind=kind, align=align, first_indent=first_indent, char_spacing=char_spacing))
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue(), self.style_ids


    # ------------------------------------------------------------ styles

    def family(self, role: str) -> str:
        return _family(self.style, role)

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
        name = _style_name(self.style, kind)
        if name in self.style_ids:
            return self.style_ids[name]
        el = self.style.element(kind)
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
        fonts = run_font_attributes(self.family(el.font), self.latin_family())
        oxml.page_field(p, oxml.rpr_xml(fonts, el.size_pt, spacing=0.0), before, after)

    def page_number_style(self) -> str:
        el = self.style.element("page_number")
        name = el.docx_style or "公文页码"
        if name not in self.style_ids:
            st = self.add_style(name)
            self.paragraph_style_props(st.element, self.footer_line, "right")
        return self.style_ids[name]


# ---------------------------------------------------------------- a document


@dataclass(frozen=True, slots=True)
class _Picture:
    sha1: str
    ext: str
    content_type: str
    entry: _Entry


@functools.lru_cache(maxsize=32)
def _picture(path: str, mtime_ns: int, size: int) -> _Picture:
    """A picture file read, identified and compressed once while it is unchanged: seals recur in every document."""
    blob = Path(path).read_bytes()
    image = Image.from_blob(blob)  # python-docx's identification, as its get_or_add_image did
    return _Picture(hashlib.sha1(blob).hexdigest(), image.ext, image.content_type, _deflate(blob))


@dataclass
class _Additions:
    """What a document adds to its base package: relationships, parts, content types."""

    rel_ids: set[str]
    part_names: set[str]
    rels: list[str] = field(default_factory=list)
    parts: list[tuple[str, _Entry]] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    pictures: dict[str, str] = field(default_factory=dict)  # sha1 → rId: a picture used twice is one part

    def relate(self, reltype: str, name: str, entry: _Entry) -> str:
        """A new part of the main document under the first free rId, as python-docx numbers them."""
        number = 1
        while f"rId{number}" in self.rel_ids:
            number += 1
        rel_id = f"rId{number}"
        self.rel_ids.add(rel_id)
        self.part_names.add(name)
        target = posixpath.relpath(name, posixpath.dirname(DOCUMENT_PART))
        self.rels.append(f'<Relationship Id="{rel_id}" Type="{reltype}" Target="{target}"/>')
        self.parts.append((name, entry))
        return rel_id

    def content_type(self, name: str, ext: str, content_type: str) -> None:
        if (ext.lower(), content_type) in default_content_types:
            self.defaults[ext.lower()] = content_type
        else:
            self.overrides["/" + name] = content_type

    def next_name(self, template: str) -> str:
        number = 1
        while template % number in self.part_names:
            number += 1
        return template % number


class _DocxWriter:
    """One document's word/document.xml, as text, and the package around it."""

    def __init__(self, style: Style, footer_baseline: float | None) -> None:
        self.style = style
        self.footer_baseline = footer_baseline
        self.base = _base(style, footer_baseline)
        self.extras: tuple[Extra, ...] = ()
        self.added = _Additions(set(self.base.rel_ids), set(self.base.part_names))
        self.shape_id = 0

    def element_style(self, kind: str, row: Row) -> str:
        """The styleId of a row's paragraph style."""
        name = _style_name(self.style, kind)
        style_id = self.base.style_ids.get(name)
        if style_id is None:  # an element without a docx_style: a base with its style made from this row
            self.extras += ((kind, row.align, row.first_indent, row.char_spacing),)
            self.base = _base(self.style, self.footer_baseline, self.extras)
            style_id = self.base.style_ids[name]
        return style_id

    # ------------------------------------------------------------ package

    def package(self, body: str, doc: Document, timestamp: dt.datetime) -> bytes:
        """The .docx: the base's parts in the base's order, the document's own and added ones in theirs."""
        base, added = self.base, self.added
        changed = {
            DOCUMENT_PART: _deflate(body.encode()),
            CORE_PART: _deflate(self.core_properties(doc, timestamp).encode()),
        }
        if added.rels:
            rels = base.rels.removesuffix("</Relationships>") + "".join(added.rels) + "</Relationships>"
            changed[RELS_PART] = _deflate(rels.encode())
            types = _content_types(base.defaults | added.defaults, base.overrides | added.overrides)
            changed[TYPES_PART] = _deflate(types)
        entries = [(name, changed.get(name, base.entries[name])) for name in base.order]
        entries[base.new_parts_at : base.new_parts_at] = added.parts
        return _zip(entries, timestamp)

    def core_properties(self, doc: Document, timestamp: dt.datetime) -> str:
        """docProps/core.xml: the base's, with this document's title, author, subject and keywords."""
        values = {
            "title": doc.title or doc.source.stem,
            "creator": doc.meta.author or (doc.signature.issuers[0] if doc.signature.issuers else ""),
            "subject": doc.meta.subject or "",
            "keywords": doc.meta.keywords or "",
        }
        # Word keeps at most 255 characters of these properties (python-docx refused longer
        # ones, which stopped the build); the document itself carries the whole title.
        values = {name: _text(value[:255]) for name, value in values.items()}
        values["date"] = timestamp.strftime(_W3CDTF)
        pieces = list(self.base.core)
        for i in range(1, len(pieces), 2):
            pieces[i] = values[pieces[i]]
        return "".join(pieces)

    def picture_rel(self, path: Path) -> str:
        """The rId of a picture; the first use of its content adds the part."""
        stat = os.stat(path)
        picture = _picture(str(path), stat.st_mtime_ns, stat.st_size)
        rel_id = self.added.pictures.get(picture.sha1)
        if rel_id is None:
            # python-docx numbers pictures whatever their type; the base has none
            name = f"word/media/image{len(self.added.pictures) + 1}.{picture.ext}"
            rel_id = self.added.relate(RT.IMAGE, name, picture.entry)
            self.added.content_type(name, picture.ext, picture.content_type)
            self.added.pictures[picture.sha1] = rel_id
        return rel_id

    # ------------------------------------------------------------ body

    def body(self, layout: Layout) -> str:
        """word/document.xml: the base's, with a paragraph or table per row."""
        pieces = [self.base.head]  # the same in every base of a style, as are sect and foot
        tail = layout.unnumbered_from
        for index, row in enumerate(layout.rows):
            section_end = tail is not None and index == tail - 1
            if row.table is not None:
                pieces.append(self.table_xml(row))
                if section_end:  # a section ends in a paragraph: an empty one of no height after the table
                    pieces.append(self.paragraph_xml(Row(kind="spacer", height=0.0), False, self.base.sect))
            else:
                page_break = row.page_break_before and not (tail is not None and index == tail)
                pieces.append(self.paragraph_xml(row, page_break, self.base.sect if section_end else None))
        pieces.append(self.unnumbered_tail() if tail is not None else self.base.sect)
        pieces.append(self.base.foot)
        return "".join(pieces)

    def unnumbered_tail(self) -> str:
        """The last section's w:sectPr: empty footers of its own, so its pages are not numbered (R-PGNUM-4).

        The paragraph that closes the numbered section holds the base's w:sectPr
        and with it the page-number footers.
        """
        refs = []
        for kind in ("default", "even"):
            name = self.added.next_name("word/footer%d.xml")
            rel_id = self.added.relate(RT.FOOTER, name, self.base.empty_footer)
            self.added.content_type(name, "xml", CT.WML_FOOTER)
            refs.append(f'<w:footerReference w:type="{kind}" r:id="{rel_id}"/>')
        return self.base.sect_head + "".join(refs) + self.base.sect_tail

    def rpr_xml(self, role: str, size: float, **props: Any) -> str:
        return _rpr_xml(_family(self.style, role), self.style.docx_fonts.get("latin"), size, **props)

    def paragraph_xml(self, row: Row, page_break: bool, section: str | None = None) -> str:
        """A paragraph; ``section`` is the w:sectPr of a section that ends with it."""
        el_line = self.style.elements[row.kind].line_pitch_pt if row.kind in self.style.elements else None
        props: dict = {"page_break": page_break}
        if row.kind in OUTLINE_LEVELS and not row.keep_with_next:
            props["keep_next"] = False  # a run-in heading is a paragraph of text
        content: list[str] = []
        if row.picture is not None:
            props.update(line_auto=True, jc="center")
            rel_id = self.picture_rel(row.picture)
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
        if row.picture is not None or any(isinstance(mark, PictureMark) for mark in row.marks):
            namespaces = PICTURE_NS
        else:
            namespaces = DRAWING_NS if row.marks else ""
        ppr = oxml.ppr_xml(self.element_style(row.kind, row), section=section, **props)
        return f"<w:p{namespaces}>{ppr}{''.join(content)}</w:p>"

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
        runs = []
        for text, latin in _script_pieces(run.text):
            # LibreOffice breaks digits, letters, —— and …… anywhere inside Chinese text;
            # tagged as English they stay whole, as the standard and Word keep them (R-TEXT-3, R-TEXT-5).
            rpr = self.rpr_xml(
                run.role, run.size, bold=run.bold, color=run.color, spacing=row.char_spacing, scale=row.horiz_scale,
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
            rel_id = self.picture_rel(mark.path)
            return oxml.picture_anchor(
                self.next_id(), rel_id, left + mark.x, row.top + mark.dy, mark.width, mark.height
            )
        assert mark.line is not None
        run = mark.runs[0]
        glyphs = mark.line.glyphs
        width = glyphs[-1].x + glyphs[-1].width - glyphs[0].x
        height = row.line_height
        rpr = self.rpr_xml(run.role, run.size, color=run.color, spacing=0.0, scale=mark.horiz_scale)
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
                    oxml.text_run_xml(self.rpr_xml(el.font, el.size_pt, spacing=0.0, english=latin), piece)
                    for piece, latin in _script_pieces(text)
                )
                parts.append(f'<w:tc><w:tcPr><w:tcW w:w="{oxml.twips(width)}" w:type="dxa"/></w:tcPr>'
                             f"<w:p>{ppr}{runs}</w:p></w:tc>")
            parts.append("</w:tr>")
        parts.append("</w:tbl>")
        return "".join(parts)


@functools.lru_cache(maxsize=1024)
def _rpr_xml(
    family: str, latin_family: str | None, size: float, *, bold: bool = False, color: str = "000000",
    spacing: float | None = None, scale: float = 1.0, english: bool = False,
) -> str:
    """A run's w:rPr: the same few recur in every document of a style."""
    fonts = run_font_attributes(family, latin_family)
    return oxml.rpr_xml(fonts, size, bold=bold, color=color, spacing=spacing, scale=scale, english=english)


def _script_pieces(text: str) -> list[tuple[str, bool]]:
    """Split text into Chinese pieces and (True) runs of ASCII letters, digits and signs, —— or ……."""
    return [(m.group(0), m.group(0)[0] in LATIN_CHARS or m.group(0)[0] in "…—") for m in LATIN_OR_NOT.finditer(text)]
