"""docgen.load: data files → Document, and the errors and warnings for bad input."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml

from docgen.errors import DocgenError
from docgen.load import (
    load_document,
    load_document_text,
    load_document_text_with_warnings,
    load_document_with_warnings,
)
from docgen.model import Heading, Image, PageBreak, Paragraph, Table

REPO = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)  # the loader only looks at the magic bytes
JPEG = b"\xff\xd8\xff\xe0" + bytes(16)


def write(directory: Path, text: str, name: str = "doc.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(DocgenError) as info:
        load_document(path)
    return str(info.value)


# ------------------------------------------------------------ bad input

# (text, line:col, field or None, expected fragments of the message)
BAD_INPUT = {
    "yaml syntax": (
        "title: 通知\nbody:\n  - 第一段\n - 第二段\n",
        "4:2",
        None,
        ["YAML 语法错误", "expected <block end>"],
    ),
    "unclosed quote": ('title: "通知\nnote: x\n', "3:1", None, ["引号没有闭合", "unexpected end of stream"]),
    "unknown key": ("titel: x\n", "1:1", "titel", ['未知的键 "titel"，是否应为 "title"？']),
    "unknown alias": ("落款:\n  成文日起: 2023-01-05\n", "2:3", "落款.成文日起", ['是否应为 "成文日期"']),
    "unknown key, nothing close": ("header:\n  zzz: 1\n", "2:3", "header.zzz", ["可用的键：copy_no（份号）"]),
    "unknown block key": ("body:\n  - imgae: a.png\n", "2:5", "body[0].imgae", ['是否应为 "image"']),
    "alias and English": ("title: a\n标题: b\n", "2:1", "标题", ['"title" 与 "标题" 是同一字段，只能写一个']),
    "alias and English nested": (
        "signature:\n  成文日期: 2023-01-05\n  date: 2023-01-06\n",
        "3:3",
        "signature.date",
        ["同一字段"],
    ),
    "duplicate key": ("title: a\nbody: []\ntitle: b\n", "3:1", "title", ['键 "title" 重复，第 1 行已有']),
    "duplicate key nested": ("meta:\n  作者: a\n  作者: b\n", "3:3", "meta.作者", ["重复"]),
    "mapping for a string": (
        "title: {a: b}\n",
        "1:8",
        "title",
        ["标题应为文字，实际为映射 (expected a string, got a mapping)"],
    ),
    "list for a heading": ("body:\n  - 段落\n  - h2: [a]\n", "3:9", "body[1].h2", ["二级标题应为文字，实际为列表"]),
    "string for a mapping": ("落款: 某单位\n", "1:5", "落款", ["落款应为映射"]),
    "bad date": (
        "落款:\n  成文日期: 2023-13-01\n",
        "2:9",
        "落款.成文日期",
        ['成文日期应为 YYYY-MM-DD 格式的日期，实际为 "2023-13-01" (expected a date YYYY-MM-DD)'],
    ),
    "no such day": ("colophon:\n  print_date: '2023-02-30'\n", "2:15", "colophon.print_date", ['"2023-02-30"']),
    "date in words": ("signature:\n  date: 2023年1月5日\n", "2:9", "signature.date", ["请写作 2023-01-05"]),
    "missing image": ("body:\n  - 段落\n  - image: nope.png\n", "3:12", "body[1].image", ['找不到图片文件 "nope.png"']),
    "missing seal": ("signature:\n  seal: [seal.png, gone.png]\n", "2:20", "signature.seal[1]", ["gone.png"]),
    "raw control character": ("title: 关于\x0b通知\n", "1:10", "title", ["控制字符 U+000B"]),
    "escaped control character": ('title: "关于\\x01通知"\n', "1:11", "title", ["控制字符 U+0001"]),
    "control character in pasted text": ("body: |\n  一、总则\n  第二行\x0c\n", "3:6", "body", ["U+000C"]),
    "lone surrogate": ('note: "a\\ud800"\n', "1:9", "note", ["U+D800"]),
    "tab in quoted text": ('note: "附注\t内容"\n', "1:10", "note", ["制表符"]),
    # libyaml reads a tab inside plain text; the text check then names the field too
    "tab in plain text": ("note: 附注\t内容\n", "1:9", "note", ["制表符"]),
    "tab in pasted text": ("正文: |\n  一、总则\n  正文\t内容\n", "3:5", "正文", ["制表符"]),
    "line break in a title": ('title: "a\\nb"\n', "1:8", "title", ["不能换行"]),
    "doc number brackets": (
        "header:\n  doc_number: X政发[2023]5号\n",
        "2:15",
        "header.doc_number",
        ['应写作 "X政发〔2023〕5号"'],
    ),
    "doc number full-width parens": ("版头:\n  发文字号: X政发（2023）5号\n", "2:9", "版头.发文字号", ["〔2023〕"]),
    "doc number lenticular brackets": ("版头:\n  发文字号: X政发【2023】5号\n", "2:9", "版头.发文字号", ["〔2023〕"]),
    "copy number not digits": ("header:\n  copy_no: 12a\n", "2:12", "header.copy_no", ["份号应为数字"]),
    "urgency": ("header:\n  urgency: 急件\n", "2:12", "header.urgency", ["特急 或 加急"]),
    "secrecy": ("header:\n  密级: 内部\n", "2:7", "header.密级", ["绝密、机密 或 秘密"]),
    "unknown style": ("style: red_header\n", "1:8", "style", ['是否应为 "red-header"']),
    "missing style file": ("格式: mine.yaml\n", "1:5", "格式", ['找不到样式文件 "mine.yaml"']),
    "two kinds in a block": (
        "body:\n  - h1: 标题\n    table: {rows: [[1]]}\n",
        "3:5",
        "body[0].table",
        ['"table" 不能与 "h1"'],
    ),
    "text without heading": ("body:\n  - text: 接排\n", "2:5", "body[0]", ["h1–h4"]),
    "page break false": ("body:\n  - 分页: false\n", "2:9", "body[0].分页", ["分页应为 true"]),
    "image too wide": ("body:\n  - image: pic.png\n    width_mm: 200\n", "3:15", "body[0].width_mm", ["156"]),
    "ragged table": (
        "body:\n  - table:\n      header: [a, b]\n      rows:\n        - [1, 2]\n        - [3]\n",
        "6:11",
        "body[0].table.rows[1]",
        ["第 2 行有 1 格，表头有 2 格"],
    ),
    "missing csv": ("body:\n  - table: {csv: nope.csv}\n", "2:18", "body[0].table.csv", ["找不到CSV文件"]),
    "folded pasted body": ("body: >\n  一、a\n", "1:7", "body", ["请用 |"]),
    "attachment without title": ("附件:\n  - 正文: 说明\n", "2:5", "附件[0]", ["附件缺少标题"]),
    "empty file": ("", "1:1", None, ["文件为空"]),
    "only comments": ("# 待填\n", "1:1", None, ["没有内容"]),
    "top level not a mapping": ("- a\n- b\n", "1:1", None, ["文件顶层应为映射（键: 值），实际为列表"]),
    "two documents": ("title: a\n---\ntitle: b\n", "2:1", None, ["只能有一个文档"]),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_names_file_line_column_and_field(tmp_path: Path, case: str) -> None:
    text, where, field, fragments = BAD_INPUT[case]
    (tmp_path / "pic.png").write_bytes(PNG)
    (tmp_path / "seal.png").write_bytes(PNG)
    path = write(tmp_path, text)
    message = error_of(path)
    prefix = f"{path}:{where}: {field}: " if field else f"{path}:{where}: "
    assert message.startswith(prefix), message
    for fragment in fragments:
        assert fragment in message, message


def test_not_utf8_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_bytes("title: 通知\nnote: ".encode() + "附注".encode("gbk") + b"\n")
    message = error_of(path)
    assert message.startswith(f"{path}:2:7: 文件不是 UTF-8 编码"), message


def test_missing_data_file(tmp_path: Path) -> None:
    assert "找不到数据文件" in error_of(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("content", "found"), [(b"GIF89a" + bytes(10), "GIF"), (b"not an image", "不是图片"), (b"", "不是图片")]
)
def test_image_must_be_png_or_jpeg_by_its_bytes(tmp_path: Path, content: bytes, found: str) -> None:
    (tmp_path / "pic.png").write_bytes(content)
    path = write(tmp_path, "body:\n  - 图片: pic.png\n")
    message = error_of(path)
    assert message.startswith(f'{path}:2:9: body[0].图片: 图片 "pic.png" 应为 PNG 或 JPEG 图片'), message
    assert found in message


def test_csv_errors_name_the_csv_line(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3\n", encoding="utf-8")
    path = write(tmp_path, "body:\n  - table: {csv: t.csv}\n")
    assert error_of(path).startswith(f"{tmp_path / 't.csv'}:3:1: body[0].table.csv: CSV 第 3 行有 1 格")
    (tmp_path / "t.csv").write_bytes("项目,金额\n".encode("gbk"))
    assert error_of(path).startswith(f"{tmp_path / 't.csv'}:1:1: body[0].table.csv: CSV 文件不是 UTF-8 编码")


# ------------------------------------------------------------ the model

ENGLISH = """\
style: red-header
header:
  copy_no: 000001
  secrecy: 秘密★1年
  urgency: 特急
  issuer_mark: [XX县人民政府, XX县财政局]
  doc_number: X政发〔2023〕5号
  signers: [张三, 李四]
  minutes_no: 第5期
title: [关于做好2023年, 重点工作的通知]
recipients: [各乡镇人民政府, 县政府各部门：]
body:
  - h1: 总体要求
  - h3: 突出抓思想建设，着力坚定理想信念。
    text: 按照要求推进。
  - 全年完成**项。
  - table:
      header: [项目, 金额]
      rows: [[办公, 0.50], [差旅, 000123]]
  - table:
      csv: t.csv
  - image: pic.png
    width_mm: 80
  - page_break: true
attachments:
  - title: 有关说明
    body: |
      一、说明
      正文。
signature:
  issuer: [XX县人民政府, XX县财政局]
  date: 2023-01-05
  seal: [seal.png, seal.jpg]
  signer: 县长 张三
note: 此件公开发布
colophon:
  cc: 县委办公室
  printer: XX县人民政府办公室
  print_date: 2023-01-06
vars:
  year: 2023
meta:
  author: 张三
  subject: 通知
  keywords: 工作
"""

CHINESE = """\
格式: red-header
版头:
  份号: 000001
  密级: 秘密★1年
  紧急程度: 特急
  发文机关标志: [XX县人民政府, XX县财政局]
  发文字号: X政发〔2023〕5号
  签发人: [张三, 李四]
  纪要编号: 第5期
标题: [关于做好2023年, 重点工作的通知]
主送机关: [各乡镇人民政府, 县政府各部门：]
正文:
  - 一级标题: 总体要求
  - 三级标题: 突出抓思想建设，着力坚定理想信念。
    正文: 按照要求推进。
  - 全年完成**项。
  - 表格:
      表头: [项目, 金额]
      行: [[办公, 0.50], [差旅, 000123]]
  - 表格:
      CSV文件: t.csv
  - 图片: pic.png
    宽度毫米: 80
  - 分页: true
附件:
  - 标题: 有关说明
    正文: |
      一、说明
      正文。
落款:
  发文机关署名: [XX县人民政府, XX县财政局]
  成文日期: 2023-01-05
  印章: [seal.png, seal.jpg]
  签发人职务姓名: 县长 张三
附注: 此件公开发布
版记:
  抄送: 县委办公室
  印发机关: XX县人民政府办公室
  印发日期: 2023-01-06
变量:
  year: 2023
属性:
  作者: 张三
  主题: 通知
  关键词: 工作
"""


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    (tmp_path / "pic.png").write_bytes(PNG)
    (tmp_path / "seal.png").write_bytes(PNG)
    (tmp_path / "seal.jpg").write_bytes(JPEG)
    (tmp_path / "t.csv").write_bytes("\ufeff序号,名称\n1,甲\n2,乙\n".encode())  # as Excel saves it, with a BOM
    return tmp_path


def test_full_document(assets: Path) -> None:
    doc, warnings = load_document_with_warnings(write(assets, ENGLISH))
    assert warnings == []
    h = doc.header
    assert (h.copy_no, h.secrecy, h.urgency, h.doc_number, h.minutes_no) == (
        "000001",
        "秘密★1年",
        "特急",
        "X政发〔2023〕5号",
        "第5期",
    )
    assert h.issuer_mark == ["XX县人民政府", "XX县财政局"]
    assert h.signers == ["张三", "李四"]
    assert doc.title_lines == ["关于做好2023年", "重点工作的通知"]
    assert doc.title == "关于做好2023年重点工作的通知"
    assert doc.recipients == ["各乡镇人民政府", "县政府各部门"]
    h1, h3, paragraph, table, csv_table, image, page_break = doc.body
    assert h1 == Heading(1, "总体要求", loc=h1.loc)
    assert h3 == Heading(3, "突出抓思想建设，着力坚定理想信念。", "按照要求推进。", loc=h3.loc)
    assert paragraph == Paragraph("全年完成**项。", paragraph.loc)
    assert isinstance(table, Table)
    assert table.header == ["项目", "金额"]
    assert table.rows == [["办公", "0.50"], ["差旅", "000123"]]  # numbers keep their source text
    assert isinstance(csv_table, Table)
    assert (csv_table.header, csv_table.rows) == (["序号", "名称"], [["1", "甲"], ["2", "乙"]])
    assert image == Image(assets / "pic.png", 80.0, image.loc)
    assert isinstance(page_break, PageBreak)
    [attachment] = doc.attachments
    assert attachment.title == "有关说明"
    assert [type(b) for b in attachment.body] == [Heading, Paragraph]
    sig = doc.signature
    assert sig.issuers == ["XX县人民政府", "XX县财政局"]
    assert sig.date == dt.date(2023, 1, 5)
    assert sig.seals == [assets / "seal.png", assets / "seal.jpg"]
    assert sig.signer == "县长 张三"
    assert doc.note == "此件公开发布"
    assert (doc.colophon.cc, doc.colophon.printer) == (["县委办公室"], "XX县人民政府办公室")
    assert doc.colophon.print_date == dt.date(2023, 1, 6)
    assert doc.variables == {"year": "2023"}
    assert (doc.meta.author, doc.meta.subject, doc.meta.keywords) == ("张三", "通知", "工作")
    assert str(doc.locs["signature.date"]).endswith("doc.yaml:32:9")
    assert str(doc.locs["title"]).endswith("doc.yaml:10:8")
    assert str(h3.loc).endswith("doc.yaml:14:5")


def test_chinese_aliases_load_to_the_same_model(assets: Path) -> None:
    path = assets / "doc.yaml"
    english = load_document(write(assets, ENGLISH))
    chinese = load_document(write(assets, CHINESE))
    assert english.locs.keys() == chinese.locs.keys()
    # Only the locs of top-level fields differ: a Chinese key is shorter, so its value starts elsewhere.
    assert dataclasses.replace(english, locs={}) == dataclasses.replace(chinese, locs={})
    assert english.source == chinese.source == path


def test_defaults_and_lenient_forms(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "title: 通知\nrecipients: 各单位：\nnote:\nbody: 唯一的一段。\n"))
    assert doc.style == "red-header"
    assert (doc.title, doc.title_lines) == ("通知", None)
    assert doc.recipients == ["各单位"]
    assert doc.note is None  # an empty field counts as not given
    assert doc.body == [Paragraph("唯一的一段。", doc.body[0].loc)]


def test_string_fields_keep_the_source_text(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "header:\n  copy_no: 000001\n  minutes_no: 2023-01-05\nnote: 1.50\n"))
    assert doc.header.copy_no == "000001"  # YAML 1.1 would make this the integer 1
    assert doc.header.minutes_no == "2023-01-05"
    assert doc.note == "1.50"


def test_quoted_date_is_a_date(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "signature:\n  date: '2024-02-29'\n"))
    assert doc.signature.date == dt.date(2024, 2, 29)


def test_asterisks_are_literal(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "body:\n  - '**年投资**万元，*注*'\n  - h2: 完成**项\n"))
    assert doc.body[0].text == "**年投资**万元，*注*"
    assert doc.body[1].text == "完成**项"


def test_warnings(tmp_path: Path) -> None:
    path = write(tmp_path, "header:\n  copy_no: 123\n  doc_number: X政发〔2023〕05号\nbody:\n  - h1: 一、总则\n")
    doc, warnings = load_document_with_warnings(path)
    assert doc.header.copy_no == "123"
    assert warnings == [
        f'{path}:2:12: header.copy_no: 份号应为 6 位数字，实际为 3 位 "123" (copy number should have 6 digits, e.g. 000001)',
        f'{path}:3:15: header.doc_number: 发文字号的顺序号不加“第”字、不编虚位（1 不编为 01），实际为 "X政发〔2023〕05号" '
        "(the sequence number takes no 第 and no leading zero)",
        f"{path}:5:5: body[0].h1: 一级标题已带序号“一、”，自动编号会重复，请删去序号 "
        "(heading text starts with a number; headings are numbered automatically)",
    ]


def test_text_form_resolves_paths_against_the_source(tmp_path: Path) -> None:
    (tmp_path / "pic.png").write_bytes(PNG)
    (tmp_path / "house.yaml").write_text("name: house\n", encoding="utf-8")
    source = tmp_path / "generated.yaml"  # need not exist
    doc = load_document_text("style: house.yaml\nbody:\n  - image: pic.png\n", source)
    assert doc.style == str((tmp_path / "house.yaml").resolve())
    assert doc.body[0] == Image(tmp_path / "pic.png", None, doc.body[0].loc)
    assert str(doc.body[0].loc) == f"{source}:3:5"


# ------------------------------------------------------------ pasted text

PASTED = """\
title: 报告
正文: |
  　　开头一段，年投资**万元。
  一、总体情况
  （一）工作进展
  1.突出抓思想建设，着力坚定理想信念。按照要求，“抓好党建”。
  2.没有句号的标题
  （1）细项！后文。
  (2)半角括号
  1.5亿元资金已到位。
  二、存在问题
  1、党建工作主抓不够。
  (二)没有（一）的二级标题
  4.跳号
  5.接着跳号之后
  三、下一步
  （一）重新计数
"""


def test_pasted_text_headings(tmp_path: Path) -> None:
    path = write(tmp_path, PASTED)
    doc, warnings = load_document_with_warnings(path)
    summary = [
        (b.level, b.number, b.text, b.run_in) if isinstance(b, Heading) else (0, None, b.text, None) for b in doc.body
    ]
    assert summary == [
        (0, None, "开头一段，年投资**万元。", None),
        (1, "一、", "总体情况", None),
        (2, "（一）", "工作进展", None),
        (3, "1.", "突出抓思想建设，着力坚定理想信念。", "按照要求，“抓好党建”。"),
        (3, "2.", "没有句号的标题", None),
        (4, "（1）", "细项！", "后文。"),
        (4, "(2)", "半角括号", None),
        (0, None, "1.5亿元资金已到位。", None),
        (1, "二、", "存在问题", None),
        (3, "1、", "党建工作主抓不够。", None),
        (2, "(二)", "没有（一）的二级标题", None),
        (3, "4.", "跳号", None),
        (3, "5.", "接着跳号之后", None),
        (1, "三、", "下一步", None),
        (2, "（一）", "重新计数", None),
    ]
    assert str(doc.body[0].loc) == f"{path}:3:5"  # after the two full-width spaces
    assert str(doc.body[3].loc) == f"{path}:6:3"
    assert warnings == [
        f"{path}:13:3: 正文: 序号不连续：期望 (一)，实际 (二) (heading number out of sequence)",
        f"{path}:14:3: 正文: 序号不连续：期望 1.，实际 4. (heading number out of sequence)",
    ]


def test_pasted_attachment_body_uses_its_own_path(tmp_path: Path) -> None:
    path = write(tmp_path, "attachments:\n  - title: 附件\n    body: |\n      1.甲\n      3.丙\n")
    doc, warnings = load_document_with_warnings(path)
    assert [b.number for b in doc.attachments[0].body] == ["1.", "3."]
    assert warnings == [
        f"{path}:5:7: attachments[0].body: 序号不连续：期望 2.，实际 3. (heading number out of sequence)"
    ]


def test_text_form_reports_warnings(tmp_path: Path) -> None:
    _, warnings = load_document_text_with_warnings("body: |\n  （二）乙\n", tmp_path / "x.yaml")
    assert warnings == [
        f"{tmp_path / 'x.yaml'}:2:3: body: 序号不连续：期望 （一），实际 （二） (heading number out of sequence)"
    ]


# ------------------------------------------------------------ the seed report


def test_report_2022_loads_with_its_headings() -> None:
    path = REPO / "data" / "report-2022.yaml"
    doc, warnings = load_document_with_warnings(path)
    assert warnings == []
    assert doc.style == "plain"
    assert doc.title == "2022年度抓基层党建工作述职报告"
    assert doc.meta.author and doc.meta.subject
    headings = [b for b in doc.body if isinstance(b, Heading)]
    paragraphs = [b for b in doc.body if isinstance(b, Paragraph)]
    assert [(h.number, h.text) for h in headings if h.level == 1] == [
        ("一、", "所作的工作和取得的成效"),
        ("二、", "存在的主要问题"),
        ("三、", "下一步工作思路和主要措施"),
    ]
    h3 = [h for h in headings if h.level == 3]
    assert [h.number for h in h3] == ["1.", "2.", "3.", "4.", "1.", "2.", "3.", "1.", "2.", "3.", "4."]
    assert all(h.run_in for h in h3)
    assert h3[0].text == "突出抓思想建设，着力坚定理想信念。"
    assert h3[0].run_in.startswith("按照全面从严治党向纵深推进的要求")
    assert len(paragraphs) == 1
    assert len(doc.body) == 15
    # Nothing lost or changed: every pasted line comes back from the blocks, ** included.
    pasted = [line for line in yaml.safe_load(path.read_text(encoding="utf-8"))["body"].splitlines() if line]
    rebuilt = [f"{b.number}{b.text}{b.run_in or ''}" if isinstance(b, Heading) else b.text for b in doc.body]
    assert rebuilt == pasted
    assert any("**" in line for line in rebuilt)
