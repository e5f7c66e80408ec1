"""The .docx read back as XML: page geometry, grid, named styles, fonts, colours, fields."""

from __future__ import annotations

import zipfile

from conftest import Built
from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def part(built: Built, name: str) -> etree._Element:
    with zipfile.ZipFile(built.docx) as z:
        return etree.fromstring(z.read(name))


def attr(el: etree._Element, name: str) -> str | None:
    return el.get(W + name)


def style_by_name(styles: etree._Element, name: str) -> etree._Element:
    for st in styles.iter(W + "style"):
        if attr(st.find(W + "name"), "val") == name:
            return st
    raise AssertionError(f"no style {name}")


def test_page_geometry_and_grid(built: dict[str, Built]) -> None:  # R-PAPER-1, R-PAGE-1..4, R-GRID-1
    doc = part(built["notice"], "word/document.xml")
    sect = doc.find(f"{W}body/{W}sectPr")
    size = sect.find(W + "pgSz")
    assert (attr(size, "w"), attr(size, "h")) == ("11906", "16838") and attr(size, "orient") is None
    margins = sect.find(W + "pgMar")
    assert {k: attr(margins, k) for k in ("top", "bottom", "left", "right")} == {
        "top": "2098", "bottom": "1984", "left": "1587", "right": "1474"
    }
    grid = sect.find(W + "docGrid")
    assert (attr(grid, "type"), attr(grid, "linePitch")) == ("lines", "579")


def test_normal_style_is_the_grid(built: dict[str, Built]) -> None:  # R-FONT-1, R-GRID-2 (b), fonts-rendering §3.3
    styles = part(built["notice"], "word/styles.xml")
    normal = style_by_name(styles, "Normal")
    ppr, rpr = normal.find(W + "pPr"), normal.find(W + "rPr")
    assert attr(ppr.find(W + "widowControl"), "val") == "0"
    spacing = ppr.find(W + "spacing")
    assert (attr(spacing, "line"), attr(spacing, "lineRule")) == ("579", "exact")
    assert attr(rpr.find(W + "rFonts"), "eastAsia") == "仿宋_GB2312"
    assert attr(rpr.find(W + "sz"), "val") == "32"
    assert attr(rpr.find(W + "spacing"), "val") == "-5"
    assert attr(rpr.find(W + "lang"), "eastAsia") == "zh-CN"


def test_named_styles_per_element(built: dict[str, Built]) -> None:  # R-BODY-3, R-TITLE-1, R-HDR-7
    styles = part(built["notice"], "word/styles.xml")
    expected = {
        "公文正文": ("仿宋_GB2312", "32", None),
        "一级标题": ("黑体", "32", None),
        "二级标题": ("楷体_GB2312", "32", None),
        "公文标题": ("方正小标宋简体", "44", None),
        "发文机关标志": ("方正小标宋简体", None, "FF0000"),
        "版记": ("仿宋_GB2312", "28", None),
    }
    for name, (family, size, color) in expected.items():
        rpr = style_by_name(styles, name).find(W + "rPr")
        assert attr(rpr.find(W + "rFonts"), "eastAsia") == family, name
        if size:
            assert attr(rpr.find(W + "sz"), "val") == size, name
        if color:
            assert attr(rpr.find(W + "color"), "val") == color
    body = style_by_name(styles, "公文正文").find(W + "pPr")
    assert attr(body.find(W + "ind"), "firstLine") == "632"
    assert attr(body.find(W + "jc"), "val") == "both"
    assert attr(style_by_name(styles, "一级标题").find(f"{W}pPr/{W}outlineLvl"), "val") == "0"


def test_paragraphs_use_the_named_styles(built: dict[str, Built]) -> None:
    doc = part(built["report-2022"], "word/document.xml")
    styles = part(built["report-2022"], "word/styles.xml")
    ids = {attr(st.find(W + "name"), "val"): attr(st, "styleId") for st in styles.iter(W + "style")}
    used = [attr(p.find(f"{W}pPr/{W}pStyle"), "val") for p in doc.iter(W + "p") if p.find(f"{W}pPr/{W}pStyle") is not None]
    assert used.count(ids["一级标题"]) == 3
    assert ids["公文正文"] in used and ids["公文标题"] in used


def test_page_number_fields_in_odd_and_even_footers(built: dict[str, Built]) -> None:  # R-PGNUM-1, R-PGNUM-3
    settings = part(built["notice"], "word/settings.xml")
    assert settings.find(W + "evenAndOddHeaders") is not None
    doc = part(built["notice"], "word/document.xml")
    refs = {attr(r, "type") for r in doc.iter(W + "footerReference")}
    assert refs == {"default", "even"}
    with zipfile.ZipFile(built["notice"].docx) as z:
        footers = [n for n in z.namelist() if n.startswith("word/footer")]
        texts = [z.read(n).decode() for n in footers]
    aligns = set()
    for xml in texts:
        root = etree.fromstring(xml.encode())
        assert "PAGE" in "".join(t.text or "" for t in root.iter(W + "instrText"))
        runs = "".join(t.text or "" for t in root.iter(W + "t"))
        assert runs.startswith("— ") and runs.endswith(" —")
        fonts = {attr(f, "eastAsia") for f in root.iter(W + "rFonts")}
        assert fonts == {"宋体"}
        assert {attr(s, "val") for s in root.iter(W + "sz")} == {"28"}
        aligns.add(attr(root.find(f".//{W}pPr/{W}jc"), "val"))
    assert aligns == {"right", "left"}


def test_unnumbered_tail_section(built: dict[str, Built]) -> None:  # R-PGNUM-4 in the .docx
    doc = part(built["stress"], "word/document.xml")
    sections = list(doc.iter(W + "sectPr"))
    assert len(sections) == 2
    with zipfile.ZipFile(built["stress"].docx) as z:
        rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
        last_refs = [r.get(rel_ns + "id") for r in sections[-1].iter(W + "footerReference")]
        assert len(last_refs) == 2
        rels = z.read("word/_rels/document.xml.rels").decode()
        rel_root = etree.fromstring(rels.encode())
        targets = {r.get("Id"): r.get("Target") for r in rel_root}
        for rid in last_refs:
            footer = etree.fromstring(z.read("word/" + targets[rid]))
            assert not list(footer.iter(W + "instrText"))


def test_red_rule_and_colophon_rules_are_shapes(built: dict[str, Built]) -> None:  # R-HDR-13, R-END-1
    with zipfile.ZipFile(built["notice"].docx) as z:
        xml = z.read("word/document.xml").decode()
    assert xml.count('prst="line"') == 4  # the red rule and three 版记 rules
    assert 'w="12700"' in xml or 'srgbClr val="FF0000"' in xml
    assert xml.count('<a:srgbClr val="FF0000"/>') >= 1


def test_same_input_same_bytes(built: dict[str, Built], tmp_path) -> None:
    from conftest import SOURCES

    from docgen.build import build_file

    build_file(SOURCES["notice"], tmp_path)
    for suffix in ("docx", "pdf"):
        assert (tmp_path / f"notice.{suffix}").read_bytes() == getattr(built["notice"], suffix).read_bytes()


def test_keep_with_next_matches_the_layout(built: dict[str, Built]) -> None:
    """Standalone headings stay with the next paragraph in both; run-in headings do not."""
    b = built["notice"]
    doc = part(b, "word/document.xml")
    styles = part(b, "word/styles.xml")
    style_keep = {
        attr(st, "styleId"): st.find(f"{W}pPr/{W}keepNext") is not None for st in styles.iter(W + "style")
    }
    paragraphs = list(doc.find(W + "body").iterchildren(W + "p"))
    rows = [r for r in b.layout.rows if r.table is None]
    assert len(paragraphs) == len(rows)
    for p, row in zip(paragraphs, rows, strict=True):
        own = p.find(f"{W}pPr/{W}keepNext")
        keep = style_keep[attr(p.find(f"{W}pPr/{W}pStyle"), "val")] if own is None else attr(own, "val") != "0"
        assert keep == row.keep_with_next, row.text
