"""Raw OOXML for what python-docx has no API for, in one place.

Each function returns or edits an element and is named after what it makes:
the document grid, exact line spacing, tab stops, PAGE fields, an anchored
line shape, an anchored picture or text box, a section break. Units: twips
(1/20 pt) for WordprocessingML, EMU (12700 per pt) for DrawingML.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from lxml.etree import _Element

EMU_PER_PT = 12700


def twips(pt: float) -> int:
    return round(pt * 20)


def emu(pt: float) -> int:
    return round(pt * EMU_PER_PT)


def _child(parent: _Element, tag: str, **attrs: str) -> _Element:
    """The first child ``tag`` of ``parent`` (created and appended if missing) with ``attrs`` set."""
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        parent.append(el)
    for key, value in attrs.items():
        el.set(qn(key), value)
    return el


# CT_PPr and CT_RPr children must appear in schema order; these are the ones we write.
PPR_ORDER = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:widowControl", "w:numPr",
    "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
    "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
    "w:rPr", "w:sectPr", "w:pPrChange",
)
RPR_ORDER = (
    "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike", "w:dstrike",
    "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden",
    "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
    "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
    "w:specVanish", "w:oMath",
)


def set_ordered(parent: _Element, order: tuple[str, ...], tag: str, **attrs: str) -> _Element:
    """Set child ``tag`` of a pPr/rPr, inserting it where the schema wants it."""
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        rank = order.index(tag)
        for i, existing in enumerate(parent):
            name = existing.prefix + ":" + existing.tag.split("}")[1] if existing.prefix else existing.tag
            if name in order and order.index(name) > rank:
                parent.insert(i, el)
                break
        else:
            parent.append(el)
    for key, value in attrs.items():
        el.set(qn(key), value)
    return el


def set_p(ppr_el: _Element, tag: str, **attrs: str) -> _Element:
    return set_ordered(ppr_el, PPR_ORDER, tag, **attrs)


def set_r(rpr_el: _Element, tag: str, **attrs: str) -> _Element:
    return set_ordered(rpr_el, RPR_ORDER, tag, **attrs)


def exact_line(ppr_el: _Element, height_pt: float) -> None:
    set_p(ppr_el, "w:spacing", **{"w:before": "0", "w:after": "0", "w:line": str(twips(height_pt)), "w:lineRule": "exact"})


def indent(ppr_el: _Element, left: float, right: float, first: float) -> None:
    attrs = {"w:left": str(twips(left)), "w:right": str(twips(right))}
    if first >= 0:
        attrs["w:firstLine"] = str(twips(first))
    else:
        attrs["w:hanging"] = str(twips(-first))
    set_p(ppr_el, "w:ind", **attrs)


def section_geometry(sect_pr: _Element, page_w: float, page_h: float, margins: dict[str, float], pitch: float) -> None:
    """pgSz, pgMar and the lines-only document grid (fonts-rendering.md §3.3)."""
    _child(sect_pr, "w:pgSz", **{"w:w": str(twips(page_w)), "w:h": str(twips(page_h))})
    _child(sect_pr, "w:pgMar", **{f"w:{k}": str(twips(v)) for k, v in margins.items()}, **{"w:gutter": "0"})
    _child(sect_pr, "w:docGrid", **{"w:type": "lines", "w:linePitch": str(twips(pitch))})


def page_field(paragraph: _Element, rpr_xml: str, before: str, after: str) -> None:
    """``before`` PAGE ``after`` as runs, the number a real field so it counts in Word, WPS and LibreOffice."""
    def run(inner: str) -> str:
        return f"<w:r {nsdecls('w')}>{rpr_xml}{inner}</w:r>"

    parts = [
        run(f'<w:t xml:space="preserve">{before}</w:t>'),
        run('<w:fldChar w:fldCharType="begin"/>'),
        run('<w:instrText xml:space="preserve"> PAGE </w:instrText>'),
        run('<w:fldChar w:fldCharType="separate"/>'),
        run("<w:t>1</w:t>"),
        run('<w:fldChar w:fldCharType="end"/>'),
        run(f'<w:t xml:space="preserve">{after}</w:t>'),
    ]
    for xml in parts:
        paragraph.append(parse_xml(xml))


def _anchor(shape_id: int, x: float, y: float, w: float, h: float, graphic: str, behind: bool = False) -> str:
    """A floating object positioned from the page's top-left corner, in front of text, no wrapping."""
    return (
        f'<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" '
        f'relativeHeight="{251658240 + shape_id}" behindDoc="{int(behind)}" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        f'<wp:positionH relativeFrom="page"><wp:posOffset>{emu(x)}</wp:posOffset></wp:positionH>'
        f'<wp:positionV relativeFrom="page"><wp:posOffset>{emu(y)}</wp:posOffset></wp:positionV>'
        f'<wp:extent cx="{emu(w)}" cy="{emu(h)}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        f'<wp:docPr id="{shape_id}" name="docgen {shape_id}"/><wp:cNvGraphicFramePr/>'
        f"{graphic}</wp:anchor>"
    )


def _shape(nv_pr: str, w: float, h: float, geometry: str, look: str, body: str = "<wps:bodyPr/>") -> str:
    """A DrawingML shape (wps:wsp) of one preset geometry, for an anchor."""
    return (
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:wsp>{nv_pr}<wps:spPr>"
        f'<a:xfrm><a:off x="0" y="0"/><a:ext cx="{emu(w)}" cy="{emu(h)}"/></a:xfrm>'
        f'<a:prstGeom prst="{geometry}"><a:avLst/></a:prstGeom>{look}</wps:spPr>'
        f"{body}</wps:wsp></a:graphicData></a:graphic>"
    )


def line_shape(shape_id: int, x0: float, x1: float, y: float, thickness: float, color: str) -> str:
    """A horizontal rule as an anchored line shape (版头分隔线, 版记 rules): exact position and weight."""
    look = f'<a:ln w="{emu(thickness)}"><a:solidFill><a:srgbClr val="{color}"/></a:solidFill></a:ln>'
    return _drawing_run(_anchor(shape_id, x0, y, x1 - x0, 0, _shape("<wps:cNvCnPr/>", x1 - x0, 0, "line", look)))


def star_shape(shape_id: int, cx: float, cy: float, size: float, color: str) -> str:
    """A solid five-pointed star (the Party organs' star on the red rule, R-HDR-14)."""
    look = f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill><a:ln><a:noFill/></a:ln>'
    graphic = _shape("<wps:cNvSpPr/>", size, size, "star5", look)
    return _drawing_run(_anchor(shape_id, cx - size / 2, cy - size / 2, size, size, graphic))


def picture_anchor(shape_id: int, rel_id: str, x: float, y: float, w: float, h: float) -> str:
    """A picture (seal) floating over the text at a page position."""
    return _drawing_run(_anchor(shape_id, x, y, w, h, _picture_graphic(shape_id, rel_id, w, h)))


def _picture_graphic(shape_id: int, rel_id: str, w: float, h: float) -> str:
    return (
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<pic:pic><pic:nvPicPr><pic:cNvPr id="{shape_id}" name="picture {shape_id}"/><pic:cNvPicPr/></pic:nvPicPr>'
        f'<pic:blipFill><a:blip r:embed="{rel_id}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{emu(w)}" cy="{emu(h)}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
    )


def text_box(shape_id: int, x: float, y: float, w: float, h: float, paragraph_xml: str) -> str:
    """A borderless text box with no insets: 文件 beside a joint issuer mark (R-HDR-8)."""
    body = (
        f"<wps:txbx><w:txbxContent>{paragraph_xml}</w:txbxContent></wps:txbx>"
        '<wps:bodyPr lIns="0" tIns="0" rIns="0" bIns="0" anchor="ctr"><a:noAutofit/></wps:bodyPr>'
    )
    look = "<a:noFill/><a:ln><a:noFill/></a:ln>"
    graphic = _shape('<wps:cNvSpPr txBox="1"/>', w, h, "rect", look, body)
    return _drawing_run(_anchor(shape_id, x, y, w, h, graphic))


def _drawing_run(anchor_xml: str) -> str:
    return f"<w:r><w:drawing>{anchor_xml}</w:drawing></w:r>"


def picture_inline(shape_id: int, rel_id: str, w: float, h: float) -> str:
    """A picture in the text flow (an image block), as a run."""
    graphic = _picture_graphic(shape_id, rel_id, w, h)
    return _drawing_run(
        f'<wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{emu(w)}" cy="{emu(h)}"/>'
        f'<wp:docPr id="{shape_id}" name="picture {shape_id}"/><wp:cNvGraphicFramePr/>{graphic}</wp:inline>'
    )


# ---------------------------------------------------------------- body as text
# Paragraphs are written as XML text, joined into word/document.xml: building
# them element by element through python-docx took most of the build time.
# python-docx's w:document declares w, wp, r and wps; a paragraph that draws
# declares a and pic itself (docx.DRAWING_NS).


def ppr_xml(
    style_id: str,
    *,
    keep_next: bool | None = None,
    page_break: bool = False,
    tabs: list[tuple[str, float]] | None = None,
    line: float | None = None,
    line_auto: bool = False,
    ind: tuple[float, float, float] | None = None,
    jc: str | None = None,
    section: str | None = None,
) -> str:
    """A w:pPr with its children in schema order; ``ind`` is (left, right, first line; negative = hanging),
    ``section`` the w:sectPr of a section the paragraph ends."""
    parts = [f'<w:pStyle w:val="{style_id}"/>']
    if keep_next is not None:
        parts.append("<w:keepNext/>" if keep_next else '<w:keepNext w:val="0"/>')
    if page_break:
        parts.append("<w:pageBreakBefore/>")
    if tabs:
        stops = "".join(f'<w:tab w:val="{align}" w:pos="{twips(pos)}"/>' for align, pos in tabs)
        parts.append(f"<w:tabs>{stops}</w:tabs>")
    if line_auto:
        parts.append('<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>')
    elif line is not None:
        parts.append(f'<w:spacing w:before="0" w:after="0" w:line="{twips(line)}" w:lineRule="exact"/>')
    if ind is not None:
        left, right, first = ind
        first_attr = f'w:firstLine="{twips(first)}"' if first >= 0 else f'w:hanging="{twips(-first)}"'
        parts.append(f'<w:ind w:left="{twips(left)}" w:right="{twips(right)}" {first_attr}/>')
    if jc is not None:
        parts.append(f'<w:jc w:val="{jc}"/>')
    if section is not None:
        parts.append(section)
    return f"<w:pPr>{''.join(parts)}</w:pPr>"


def rpr_xml(
    fonts: dict[str, str],
    size: float,
    *,
    bold: bool = False,
    color: str = "000000",
    spacing: float | None = None,
    scale: float = 1.0,
    english: bool = False,
) -> str:
    """A w:rPr with its children in schema order."""
    font_attrs = " ".join(f'{k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in fonts.items())
    parts = [f"<w:rFonts {font_attrs}/>"]
    if bold:
        parts.append("<w:b/>")
    if color.upper() != "000000":
        parts.append(f'<w:color w:val="{color.upper()}"/>')
    if spacing is not None:
        parts.append(f'<w:spacing w:val="{twips(spacing)}"/>')
    if scale != 1.0:
        parts.append(f'<w:w w:val="{round(scale * 100)}"/>')
    half_points = round(size * 2)
    parts.append(f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>')
    if english:
        parts.append('<w:lang w:val="en-US" w:eastAsia="en-US"/>')
    return f"<w:rPr>{''.join(parts)}</w:rPr>"


def text_run_xml(rpr: str, text: str) -> str:
    """A run of text; a line break (\\n) and a tab (\\t) become w:br and w:tab."""
    pieces = []
    for n, line in enumerate(text.split("\n")):
        if n:
            pieces.append("<w:br/>")
        for m, part in enumerate(line.split("\t")):
            if m:
                pieces.append("<w:tab/>")
            if part:
                pieces.append(f'<w:t xml:space="preserve">{escape(part)}</w:t>')
    return f"<w:r>{rpr}{''.join(pieces)}</w:r>"
