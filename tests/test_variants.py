"""Less common shapes of a 公文: a very long issuer mark, the Party star, explicit title lines,
a picture in the body, three signers. Each measured in the PDF and found in the .docx."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image as PILImage

from docgen.build import build_file
from docgen.pdftext import MM_PER_PT, read_pdf

DOC = """\
style: {style}
header:
  issuer_mark: XX县人民政府办公室关于印发某某某某某某某某某某某某某某某实施方案的通知文件
  doc_number: X政办发〔2023〕7号
  signers: [张三, 李四, 王五]
title: [关于测试图片的, 通知]
recipients: 各单位
body:
  - 下图为示意图。
  - {{image: chart.png, width_mm: 100}}
  - 图片之后的正文。
signature:
  issuer: XX县人民政府办公室
  date: 2023-02-01
"""


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("variant")
    PILImage.new("RGB", (400, 200), "white").save(folder / "chart.png")
    (folder / "party.yaml").write_text("name: party\nextends: red-header\nheader:\n  party_star: true\n", encoding="utf-8")
    (folder / "v.yaml").write_text(DOC.format(style="party.yaml"), encoding="utf-8")
    build_file(folder / "v.yaml", folder)
    return folder


def test_long_issuer_mark_is_compressed_not_wrapped(variant: Path) -> None:  # R-HDR-7
    page = read_pdf(variant / "v.pdf")[0]
    mark = next(line for line in page.lines if line.text.startswith("XX县人民政府办公室关于印发"))
    assert mark.text.endswith("文件")
    assert (mark.x1_mm - mark.x0_mm) <= 150.5
    with zipfile.ZipFile(variant / "v.docx") as z:
        xml = z.read("word/document.xml").decode()
    scales = {int(v) for v in re.findall(r"<w:w w:val=\"(\d+)\"/>", xml)}
    assert len(scales) == 1 and 50 <= scales.pop() < 100


def test_party_star_interrupts_the_red_rule(variant: Path) -> None:  # R-HDR-14
    page = read_pdf(variant / "v.pdf")[0]
    red = [ln for ln in page.lines_drawn if ln.get("stroking_color") == (1, 0, 0)]
    assert len(red) == 2  # the rule, broken on both sides of the star
    star = [c for c in page.curves if c.get("non_stroking_color") == (1, 0, 0) and c.get("fill")]
    assert len(star) == 1
    centre = (star[0]["x0"] + star[0]["x1"]) / 2 * MM_PER_PT
    assert abs(centre - 106.0) <= 0.5
    with zipfile.ZipFile(variant / "v.docx") as z:
        assert 'prst="star5"' in z.read("word/document.xml").decode()


def test_explicit_title_lines(variant: Path) -> None:  # R-TITLE-2
    texts = [line.text for line in read_pdf(variant / "v.pdf")[0].lines]
    assert texts[texts.index("关于测试图片的") + 1] == "通知"


def test_three_signers_two_a_line(variant: Path) -> None:  # R-HDR-12
    page = read_pdf(variant / "v.pdf")[0]
    first = next(line for line in page.lines if "签发人" in line.text)
    second = page.lines[page.lines.index(first) + 1]
    assert second.text.startswith("X政办发") and second.text.endswith("王五")
    zhang = next(c for c in first.chars if c["text"] == "张")
    wang = next(c for c in second.chars if c["text"] == "王")
    assert abs(zhang["x0"] - wang["x0"]) <= 0.3 / MM_PER_PT  # continuation under the first name
    assert abs((second.baseline - first.baseline) - 28.95) < 0.1


def test_picture_in_the_body(variant: Path) -> None:
    page = read_pdf(variant / "v.pdf")[0]
    (image,) = page.images
    assert abs((image["x1"] - image["x0"]) * MM_PER_PT - 100.0) <= 0.5
    assert abs((image["x0"] + image["x1"]) / 2 * MM_PER_PT - 106.0) <= 0.5
    above = next(line for line in page.lines if line.text == "下图为示意图。")
    assert above.baseline < image["top"] < image["bottom"] <= 742.7  # below the text before it, inside the 版心
    with zipfile.ZipFile(variant / "v.docx") as z:
        assert any(n.startswith("word/media/") for n in z.namelist())
        assert "<wp:inline" in z.read("word/document.xml").decode()


def test_practice_bold_headings_in_both_outputs(tmp_path: Path) -> None:  # R-FONT-4 option
    (tmp_path / "bold.yaml").write_text("name: bold\nextends: red-header\nbody:\n  practice_bold: true\n",
                                        encoding="utf-8")
    (tmp_path / "d.yaml").write_text(
        "style: bold.yaml\ntitle: 测试\nbody:\n  - h1: 总体要求\n  - h2: 考核对象\n  - 正文。\n", encoding="utf-8"
    )
    build_file(tmp_path / "d.yaml", tmp_path)
    import pdfplumber

    with pdfplumber.open(str(tmp_path / "d.pdf")) as pdf:
        stream = b"".join(obj.get_data() for obj in pdf.pages[0].page_obj.contents if hasattr(obj, "get_data"))
    assert b"2 Tr" in stream  # the 楷体 heading is emboldened
    with zipfile.ZipFile(tmp_path / "d.docx") as z:
        xml = z.read("word/document.xml").decode()
    heading = xml[xml.index("考核对象") - 700 : xml.index("考核对象")]
    assert "<w:b/>" in heading
    assert "<w:b/>" not in xml[xml.index("总体要求") - 700 : xml.index("总体要求")]  # 黑体 stays as it is


def test_a_title_of_many_lines(tmp_path: Path) -> None:  # R-TITLE-2
    """Trying every set of breaks took hours for a title of 17 lines; the lines are now filled in turn."""
    title = "关于" + "做好年度工作" * 50 + "的通知"
    (tmp_path / "long.yaml").write_text(f"title: {title}\nbody:\n  - 正文。\n", encoding="utf-8")
    build_file(tmp_path / "long.yaml", tmp_path)
    lines = [line for page in read_pdf(tmp_path / "long.pdf") for line in page.lines]
    title_lines = [line for line in lines if line.chars[0]["size"] > 20]  # 二号
    assert "".join(line.text for line in title_lines) == title
    assert len(title_lines) == 17
    widest = 156 - 2 * 22 * MM_PER_PT  # R-TITLE-2: no completely full line
    assert all(line.x1_mm - line.x0_mm <= widest + 0.2 for line in title_lines)
    assert all(line.text[:2] == "工作" for line in title_lines[1:])  # broken between words
