"""The .docx read back as XML: page geometry, grid, named styles, fonts, colours, fields."""

from __future__ import annotations

import dataclasses
import io
import posixpath
import zipfile
from pathlib import Path

from conftest import ROOT, SOURCES, Built
from lxml import etree

from docgen.build import build_file, build_timestamp, fill
from docgen.load import load_document_text
from docgen.load.nodes import read_source
from docgen.render.docx import render_docx

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"


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


# ---------------------------------------------------------------- the package, written by hand


def package_problems(data: bytes) -> list[str]:
    """What is wrong with a .docx as a zip and as an OPC package (relationships, content types)."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if z.testzip() is not None:
            problems.append(f"bad CRC in {z.testzip()}")
        names = z.namelist()
        if len(set(names)) != len(names):
            problems.append("a part twice")
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_DEFLATED or info.external_attr != 0o644 << 16:
                problems.append(f"{info.filename}: compression {info.compress_type}, mode {info.external_attr:o}")
        types = etree.fromstring(z.read("[Content_Types].xml"))
        defaults = {el.get("Extension"): el.get("ContentType") for el in types.iter(TYPES + "Default")}
        overrides = {el.get("PartName"): el.get("ContentType") for el in types.iter(TYPES + "Override")}
        problems += [f"content type for a missing part {name}" for name in overrides if name[1:] not in names]
        content_type = {n: overrides.get("/" + n, defaults.get(n.rsplit(".", 1)[-1])) for n in names}
        problems += [f"no content type for {n}" for n, ct in content_type.items() if ct is None and n[0] != "["]
        for rels_name in (n for n in names if n.endswith(".rels")):
            source_dir = posixpath.dirname(posixpath.dirname(rels_name))  # word/_rels/x.rels → word
            ids = set()
            for rel in etree.fromstring(z.read(rels_name)).iter(PKG_RELS + "Relationship"):
                ids.add(rel.get("Id"))
                target = posixpath.normpath(posixpath.join(source_dir, rel.get("Target")))
                if rel.get("TargetMode") != "External" and target not in names:
                    problems.append(f"{rels_name}: {rel.get('Id')} → missing {target}")
                kind = rel.get("Type").rsplit("/", 1)[-1]
                expected = {"footer": "wordprocessingml.footer+xml", "image": "image/"}.get(kind)
                if expected and expected not in (content_type.get(target) or ""):
                    problems.append(f"{target}: content type {content_type.get(target)} for a {kind}")
            if rels_name == "word/_rels/document.xml.rels":
                used = {v for el in etree.fromstring(z.read("word/document.xml")).iter()
                        for k, v in el.attrib.items() if k.startswith(R)}
                problems += [f"document.xml uses undefined {rid}" for rid in sorted(used - ids)]
    return problems


def test_packages_are_whole(built: dict[str, Built]) -> None:
    for name, b in built.items():
        assert package_problems(b.docx.read_bytes()) == [], name
        with zipfile.ZipFile(b.docx) as z:
            stamp = build_timestamp(load_document_text(fill(read_source(SOURCES[name]), SOURCES[name], {}),
                                                       SOURCES[name]))
            assert {i.date_time for i in z.infolist()} == {stamp.timetuple()[:6]}, name


def test_a_seal_used_twice_is_one_part(tmp_path: Path) -> None:
    seal = ROOT / "examples" / "seals" / "sample-seal-1.png"
    text = (ROOT / "examples" / "joint-notice.yaml").read_text(encoding="utf-8")
    text = text.replace("seal: [seals/sample-seal-1.png, seals/sample-seal-2.png]", f"seal: ['{seal}', '{seal}']")
    (tmp_path / "twice.yaml").write_text(text, encoding="utf-8")
    build_file(tmp_path / "twice.yaml", tmp_path)
    data = (tmp_path / "twice.docx").read_bytes()
    assert package_problems(data) == []
    with zipfile.ZipFile(tmp_path / "twice.docx") as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert media == ["word/media/image1.png"]
        assert z.read(media[0]) == seal.read_bytes()
        doc = etree.fromstring(z.read("word/document.xml"))
        blips = [el.get(R + "embed") for el in doc.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}blip")]
        assert len(blips) == 2 and len(set(blips)) == 1
        rels = etree.fromstring(z.read("word/_rels/document.xml.rels"))
        images = [r for r in rels if r.get("Type").endswith("/image")]
        assert [(r.get("Id"), r.get("Target")) for r in images] == [(blips[0], "media/image1.png")]


def test_numbered_section_ending_in_a_table(built: dict[str, Built]) -> None:  # R-PGNUM-4
    """The section before an unnumbered tail ends in a paragraph: after a table, an empty one is added."""
    stress = built["stress"]
    tail = stress.layout.unnumbered_from
    assert tail is not None
    table = next(r for r in built["notice"].layout.rows if r.table is not None)
    rows = [*stress.layout.rows[: tail - 1], table, *stress.layout.rows[tail:]]
    source = SOURCES["stress"]
    doc = load_document_text(fill(read_source(source), source, {}), source)
    data = render_docx(dataclasses.replace(stress.layout, rows=rows), doc, stress.style, build_timestamp(doc))
    assert package_problems(data) == []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = etree.fromstring(z.read("word/document.xml")).find(W + "body")
    blocks = list(body)
    closing = next(i for i, el in enumerate(blocks) if el.find(f"{W}pPr/{W}sectPr") is not None)
    assert blocks[closing - 1].tag == W + "tbl" and blocks[closing].find(W + "r") is None
    assert attr(blocks[closing].find(f"{W}pPr/{W}spacing"), "line") == "0"
    sections = [blocks[closing].find(f"{W}pPr/{W}sectPr"), blocks[-1]]
    refs = [[r.get(R + "id") for r in s.iter(W + "footerReference")] for s in sections]
    assert len(refs[0]) == len(refs[1]) == 2 and not set(refs[0]) & set(refs[1])


def test_element_without_a_docx_style(tmp_path: Path) -> None:
    """An element the style file gives no docx_style gets a paragraph style named after it, in every document."""
    (tmp_path / "own.yaml").write_text(
        "name: own\nextends: red-header\nelements:\n  date: {docx_style: null}\n", encoding="utf-8"
    )
    text = (ROOT / "examples" / "notice.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text.replace("style: red-header", "style: own.yaml"), encoding="utf-8")
    results = []
    for folder in ("one", "two"):  # the second document starts from the base the first made
        build_file(tmp_path / "a.yaml", tmp_path / folder)
        results.append((tmp_path / folder / "a.docx").read_bytes())
    assert results[0] == results[1]
    assert package_problems(results[0]) == []
    with zipfile.ZipFile(tmp_path / "one" / "a.docx") as z:
        styles = etree.fromstring(z.read("word/styles.xml"))
        doc = etree.fromstring(z.read("word/document.xml"))
    style_id = attr(style_by_name(styles, "date"), "styleId")
    assert style_id in {attr(el, "val") for el in doc.iter(W + "pStyle")}


def test_a_title_longer_than_255_characters_builds(tmp_path: Path) -> None:
    """python-docx refused core properties over 255 characters, which stopped the build; Word keeps 255."""
    title = "关于" + "做好年度工作" * 50 + "的通知"
    (tmp_path / "long.yaml").write_text(f"title: {title}\nbody:\n  - 正文。\n", encoding="utf-8")
    build_file(tmp_path / "long.yaml", tmp_path)
    with zipfile.ZipFile(tmp_path / "long.docx") as z:
        core = etree.fromstring(z.read("docProps/core.xml"))
    assert core.findtext("{http://purl.org/dc/elements/1.1/}title") == title[:255]
