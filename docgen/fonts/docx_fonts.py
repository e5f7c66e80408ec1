"""Fonts in the .docx: no theme fonts, every run names its 公文 family.

python-docx's default template is an English/Japanese Office 2010 document:
its docDefaults point at the theme (Calibri/Cambria, ＭＳ 明朝 for East Asian
text), settings say ``themeFontLang eastAsia="ja-JP"``, and the font table
lists Calibri, Cambria and ＭＳ 明朝. Word and LibreOffice fall back to those
wherever a run does not name a font, so ``clean_docx_fonts`` replaces them
by the document's own family and Chinese language tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from docx.oxml.ns import qn
from lxml import etree

from docgen.render import oxml  # CT_RPr child order: Word rejects a file whose rPr children are out of order

A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
THEME_ATTRS = ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme")
THEME_RELTYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"
FONT_TABLE_RELTYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable"
STYLES_WITH_EFFECTS_RELTYPE = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"

def _strip_theme(rfonts: Any) -> None:
    for attr in THEME_ATTRS:
        rfonts.attrib.pop(qn(attr), None)


def _rpr_of(target: Any) -> Any:
    """The w:rPr behind a python-docx Run/style/paragraph proxy or an lxml element."""
    if hasattr(target, "_r"):  # docx.text.run.Run
        return target._r.get_or_add_rPr()
    if not isinstance(target, etree._Element):  # Paragraph, _ParagraphStyle, …
        element = getattr(target, "element", None)
        if element is None:
            element = getattr(target, "_element", None)
        if element is None:
            raise TypeError(f"set_run_fonts: expected a run, style or w:rPr element, got {type(target).__name__}")
        target = element
    if target.tag == qn("w:rPr"):
        return target
    if hasattr(target, "get_or_add_rPr"):  # CT_R, CT_Style
        return target.get_or_add_rPr()
    rpr = target.find(qn("w:rPr"))
    if rpr is None:
        rpr = etree.SubElement(target, qn("w:rPr"))
    return rpr


def run_font_attributes(family: str, latin_family: str | None = None) -> dict[str, str]:
    """The ``w:rFonts`` attributes naming ``family`` for every script.

    ascii/hAnsi take ``latin_family`` when a Latin face is configured, and then
    ``w:hint="eastAsia"`` makes Word draw the characters both scripts share
    (“”‘’…—·) with the Chinese face, as the PDF does.
    """
    latin = latin_family or family
    attrs = {"w:ascii": latin, "w:hAnsi": latin, "w:eastAsia": family, "w:cs": family}
    if latin != family:
        attrs["w:hint"] = "eastAsia"
    return attrs


def set_run_fonts(rPr_or_run: Any, family: str, latin_family: str | None = None) -> Any:
    """Write ``w:rFonts`` (see ``run_font_attributes``) into a run, a style or an rPr; returns the element."""
    rpr = _rpr_of(rPr_or_run)
    rfonts = oxml.set_r(rpr, "w:rFonts")
    _strip_theme(rfonts)
    attrs = run_font_attributes(family, latin_family)
    for key, value in attrs.items():
        rfonts.set(qn(key), value)
    if "w:hint" not in attrs:
        rfonts.attrib.pop(qn("w:hint"), None)
    return rfonts


def _part(document: Any, reltype: str) -> Any | None:
    for rel in document.part.rels.values():
        if rel.reltype == reltype and not rel.is_external:
            return rel.target_part
    return None


def _rewrite_blob(part: Any, edit: Any) -> None:
    """Edit a part python-docx keeps as bytes only (theme, font table)."""
    root = etree.fromstring(part.blob)
    edit(root)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _clean_theme(root: Any, family: str) -> None:
    for scheme in ("majorFont", "minorFont"):
        for font in root.iter(f"{{{A_NS}}}{scheme}"):
            for child in list(font):
                local = etree.QName(child).localname
                if local in ("latin", "ea"):
                    child.set("typeface", family)
                elif local == "cs":
                    child.set("typeface", "")
                elif local == "font":  # per-script faces: ＭＳ 明朝, 宋体, 新細明體, …
                    font.remove(child)


def _is_cjk_family(name: str) -> bool:
    return not name.isascii() or name.lower() in {
        "simsun",
        "simhei",
        "fangsong",
        "kaiti",
        "fangsong_gb2312",
        "kaiti_gb2312",
        "fzxiaobiaosong-b05s",
    }


def _clean_font_table(root: Any, families: list[str]) -> None:
    for child in list(root):
        root.remove(child)
    for name in families:
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        # charset 86 = GB2312_CHARSET: Word substitutes a missing CJK face by a CJK one.
        etree.SubElement(font, qn("w:charset")).set(qn("w:val"), "86" if _is_cjk_family(name) else "00")
        etree.SubElement(font, qn("w:family")).set(qn("w:val"), "auto")
        etree.SubElement(font, qn("w:pitch")).set(qn("w:val"), "variable")


def clean_docx_fonts(
    document: Any,
    default_family: str,
    size_half_points: int,
    extra_families: Iterable[str] = (),
) -> None:
    """Remove the template's theme fonts; make ``default_family`` and zh-CN the defaults.

    ``extra_families`` (黑体, 楷体_GB2312, …) are listed in the font table too.
    """
    styles = document.styles.element
    for rfonts in list(styles.iter(qn("w:rFonts"))):
        _strip_theme(rfonts)
        if not rfonts.attrib:  # was theme-only: inherit from docDefaults instead
            rfonts.getparent().remove(rfonts)

    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = etree.Element(qn("w:docDefaults"))
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = etree.Element(qn("w:rPrDefault"))
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = etree.SubElement(rpr_default, qn("w:rPr"))
    set_run_fonts(rpr, default_family)
    size = str(int(size_half_points))
    oxml.set_r(rpr, "w:sz", **{"w:val": size})
    oxml.set_r(rpr, "w:szCs", **{"w:val": size})
    # eastAsia="zh-CN" is what makes LibreOffice apply Chinese 避头尾 (research §4).
    oxml.set_r(rpr, "w:lang", **{"w:val": "zh-CN", "w:eastAsia": "zh-CN", "w:bidi": "ar-SA"})

    settings = document.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")  # the template says ja-JP
    for math_font in list(settings.iter(f"{{{M_NS}}}mathFont")):  # "Cambria Math"
        math_font.getparent().remove(math_font)

    theme = _part(document, THEME_RELTYPE)
    if theme is not None:
        _rewrite_blob(theme, lambda root: _clean_theme(root, default_family))
    families = list(dict.fromkeys([default_family, *extra_families]))
    table = _part(document, FONT_TABLE_RELTYPE)
    if table is not None:
        _rewrite_blob(table, lambda root: _clean_font_table(root, families))
    # A Word 2010 copy of the template's styles (all theme fonts); styles.xml
    # is the one every reader uses, so drop the stale twin.
    for rid, rel in list(document.part.rels.items()):
        if rel.reltype == STYLES_WITH_EFFECTS_RELTYPE:
            document.part.drop_rel(rid)
