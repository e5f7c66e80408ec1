"""The body: a list of blocks, or one pasted string whose numbered lines become headings."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from docgen.errors import DocgenError
from docgen.load import keys
from docgen.load.nodes import (
    LINE_BREAK,
    Ctx,
    LineIndex,
    Value,
    as_bool,
    as_file,
    as_image,
    as_number,
    as_text,
    bad_char,
    check_chars,
    fields,
    present,
    type_error,
)
from docgen.model import Block, Heading, Image, Loc, PageBreak, Paragraph, Table

MAX_WIDTH_MM = 156  # the width of the text block (版心), GB/T 9704 5.2.2

_CN_DIGITS = "一二三四五六七八九"
_CN = _CN_DIGITS + "十"
# Heading numbers by level as (prefix)(numeral)(suffix): 一、 （一） 1. （1）.
_NUMBERS = (
    (1, re.compile(rf"()([{_CN}]{{1,3}})(、)")),
    (2, re.compile(rf"([（(])([{_CN}]{{1,3}})([）)])")),
    (3, re.compile(r"()(\d{1,2})([.．、])(?!\d)")),  # the lookahead keeps "1.5亿元" a paragraph
    (4, re.compile(r"([（(])(\d{1,2})([）)])")),
)
# A sentence ends at 。！？ plus any closing quotes or brackets after it.
_SENTENCE_END = re.compile(r"[。！？!?][”’」』）)]*")


@dataclass(frozen=True)
class _Number:
    """A heading number found at the start of a line."""

    level: int
    text: str  # as written: 一、 （二） 3. （4）
    value: int
    prefix: str
    suffix: str

    def written_as(self, value: int) -> str:
        """Another number in this one's form, for "expected （一）, found （二）"."""
        numeral = str(value) if self.level > 2 or value > 99 else _chinese(value)
        return f"{self.prefix}{numeral}{self.suffix}"


def _chinese_value(numeral: str) -> int | None:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23; None for strings such as 一一 that are no number."""
    tens, has_ten, ones = numeral.partition("十")
    if not has_ten:
        return _CN_DIGITS.index(numeral) + 1 if len(numeral) == 1 else None
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CN_DIGITS.index(tens) + 1 if tens else 1) * 10 + (_CN_DIGITS.index(ones) + 1 if ones else 0)


def _chinese(value: int) -> str:
    tens, ones = divmod(value, 10)
    head = ("" if tens == 1 else _CN_DIGITS[tens - 1]) + "十" if tens else ""
    return head + (_CN_DIGITS[ones - 1] if ones else "")


def _leading_number(line: str) -> tuple[_Number, str] | None:
    """The heading number a line starts with, and the rest of the line."""
    for level, pattern in _NUMBERS:
        m = pattern.match(line)
        if m:
            prefix, numeral, suffix = m.groups()
            value = int(numeral) if level > 2 else _chinese_value(numeral)
            if value:
                return _Number(level, m.group(), value, prefix, suffix), line[m.end() :].strip()
    return None


# ---------------------------------------------------------------- body


def parse_body(ctx: Ctx, v: Value) -> list[Block]:
    """``body`` (or an attachment's body): a list of blocks, or one string of pasted text."""
    if isinstance(v.node, yaml.ScalarNode):
        return _pasted(ctx, v)
    if not isinstance(v.node, yaml.SequenceNode):
        raise type_error(ctx, v, "块列表或粘贴的文字", "a list of blocks or a block of pasted text")
    return [_block(ctx, v.item(i, node)) for i, node in enumerate(v.node.value)]


def _block(ctx: Ctx, v: Value) -> Block:
    loc = ctx.loc(v.node)
    if isinstance(v.node, yaml.ScalarNode):
        text = as_text(ctx, v)
        if not text:
            raise ctx.error("段落为空 (empty paragraph)", v.node, v.path)
        return Paragraph(text, loc)
    if isinstance(v.node, yaml.SequenceNode):
        raise type_error(ctx, v, "文字段落或块（如 h1: 标题）", "a paragraph string or a block such as {h1: text}")
    f = fields(ctx, v, keys.BLOCK)
    kinds = [key for key in keys.BLOCK_KINDS if key in f]
    if not kinds:
        raise ctx.error(
            "块应含 h1–h4、table、image、page_break 之一；普通段落直接写文字 "
            "(a block needs one of h1..h4, table, image, page_break; a paragraph is a plain string)",
            v.node,
            v.path,
        )
    kind = kinds[0]
    for key, value in f.items():
        if key != kind and key not in keys.BLOCK_KINDS[kind]:
            allowed = ", ".join((kind, *keys.BLOCK_KINDS[kind]))
            raise ctx.error(
                f'"{value.written}" 不能与 "{f[kind].written}" 用在同一块中 (a block with {kind} takes only: {allowed})',
                value.where,
                value.path,
            )
    if kind in keys.HEADINGS:
        return _heading(ctx, f, kind, loc)
    if kind == "table":
        return _table(ctx, f["table"], loc)
    if kind == "image":
        return _image(ctx, f, loc)
    if not as_bool(ctx, f["page_break"]):
        raise ctx.error("分页应为 true (expected page_break: true)", f["page_break"].node, f["page_break"].path)
    return PageBreak(loc)


def _heading(ctx: Ctx, f: dict[str, Value], kind: str, loc: Loc) -> Heading:
    level = int(kind[1])
    head = f[kind]
    text = as_text(ctx, head)
    if not text:
        raise ctx.error(f"{head.zh}不能为空 (empty heading)", head.node, head.path)
    number = _leading_number(text)
    if number and number[0].level == level:
        # The layout numbers h1..h4 itself; a typed number would print twice.
        ctx.warn(
            f"{head.zh}已带序号“{number[0].text}”，自动编号会重复，请删去序号 "
            "(heading text starts with a number; headings are numbered automatically)",
            loc,
            head.path,
        )
    run_in = as_text(ctx, f["text"]) if "text" in f else ""
    return Heading(level, text, run_in or None, loc=loc)


def _image(ctx: Ctx, f: dict[str, Value], loc: Loc) -> Image:
    path = as_image(ctx, f["image"])
    width = present(f, "width_mm")
    if width is None:
        return Image(path, None, loc)
    mm = as_number(ctx, width)
    if not 0 < mm <= MAX_WIDTH_MM:
        raise ctx.error(
            f"{width.zh}应大于 0 且不超过版心宽 {MAX_WIDTH_MM}，实际为 {width.node.value} "
            f"(expected 0 < width_mm ≤ {MAX_WIDTH_MM})",
            width.node,
            width.path,
        )
    return Image(path, mm, loc)


# ---------------------------------------------------------------- tables


def _table(ctx: Ctx, v: Value, loc: Loc) -> Table:
    t = fields(ctx, v, keys.TABLE)
    source = present(t, "csv")
    if source:
        other = t.get("header") or t.get("rows")
        if other:
            raise ctx.error(
                "表格的 csv 与 header/rows 只能二选一 (give either csv or header and rows)", other.where, other.path
            )
        return _csv_table(ctx, source, loc)
    header_v, rows_v = present(t, "header"), present(t, "rows")
    header = _row(ctx, header_v) if header_v else []
    rows = [_row(ctx, rows_v.item(i, n)) for i, n in enumerate(_sequence(ctx, rows_v).value)] if rows_v else []
    if not header and not rows:
        raise ctx.error("表格没有内容 (a table needs header, rows or csv)", v.node, v.path)
    width, against = (len(header), "表头") if header else (len(rows[0]), "第 1 行")
    for i, row in enumerate(rows):
        if len(row) != width:
            item = rows_v.item(i, rows_v.node.value[i])
            raise ctx.error(
                f"第 {i + 1} 行有 {len(row)} 格，{against}有 {width} 格 (row has {len(row)} cell(s), expected {width})",
                item.node,
                item.path,
            )
    return Table(header, rows, loc)


def _sequence(ctx: Ctx, v: Value) -> yaml.SequenceNode:
    if not isinstance(v.node, yaml.SequenceNode):
        raise type_error(ctx, v, "列表", "a list")
    return v.node


def _row(ctx: Ctx, v: Value) -> list[str]:
    """A row of cells; numbers keep their source text (``0.50`` stays ``0.50``)."""
    return [as_text(ctx, v.item(i, node)) for i, node in enumerate(_sequence(ctx, v).value)]


def _csv_table(ctx: Ctx, v: Value, loc: Loc) -> Table:
    """A table from a UTF-8 CSV file whose first row is the header; its errors name the CSV's lines."""
    path = as_file(ctx, v, "CSV")
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ctx.error(
            f"无法读取 CSV 文件 {path}：{exc.strerror} (cannot read the CSV file)", v.node, v.path
        ) from None
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DocgenError(
            "CSV 文件不是 UTF-8 编码，请另存为“CSV UTF-8” (CSV file is not UTF-8)", Loc(name, line, 1), v.path
        ) from None
    found = bad_char(text, "CSV 文件")
    if found:
        raise DocgenError(found[1], LineIndex(text).loc(name, found[0]), v.path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, [cell.strip() for cell in row]) for row in reader if row]
    except csv.Error as exc:
        raise DocgenError(f"CSV 格式有误：{exc} (malformed CSV)", Loc(name, reader.line_num, 1), v.path) from None
    if not rows:
        raise ctx.error(f"CSV 文件 {path.name} 为空 (CSV file is empty)", v.node, v.path)
    (_, header), *body = rows
    for line, row in body:
        if len(row) != len(header):
            raise DocgenError(
                f"CSV 第 {line} 行有 {len(row)} 格，表头有 {len(header)} 格 "
                f"(row has {len(row)} cell(s), the header has {len(header)})",
                Loc(name, line, 1),
                v.path,
            )
    return Table(header, [row for _, row in body], loc)


# ---------------------------------------------------------------- pasted text


def _pasted(ctx: Ctx, v: Value) -> list[Block]:
    """Pasted text: a paragraph a line; a line starting with 一、 （一） 1. （1） is a heading.

    A heading line whose first sentence ends in 。 and goes on is a run-in
    heading. Numbers are kept as written (the style decides whether to print
    or recompute them); numbers out of sequence are warned about.
    """
    if v.node.style == ">":
        raise ctx.error(
            "粘贴的正文请用 | 而不是 >（> 会把换行折成空格，段落会连成一段）"
            "(use a literal block | for pasted text; > folds the lines into one)",
            v.node,
            v.path,
        )
    check_chars(ctx, v, v.node.value)
    blocks: list[Block] = []
    counters = [0] * 5  # last number seen, by level 1..4
    for line, loc in _lines(ctx, v.node):
        found = _leading_number(line)
        if found is None or not found[1]:
            blocks.append(Paragraph(line, loc))
            continue
        number, rest = found
        level = number.level
        expected = counters[level] + 1
        if number.value != expected:
            ctx.warn(
                f"序号不连续：期望 {number.written_as(expected)}，实际 {number.text} (heading number out of sequence)",
                loc,
                v.path,
            )
        counters[level] = number.value  # go on from the number written, so one slip warns once
        counters[level + 1 :] = [0] * (4 - level)
        end = _SENTENCE_END.search(rest)
        if end and rest[end.end() :].strip():
            blocks.append(Heading(level, rest[: end.end()], rest[end.end() :].strip(), number.text, loc))
        else:
            blocks.append(Heading(level, rest, None, number.text, loc))
    return blocks


def _lines(ctx: Ctx, node: yaml.ScalarNode) -> Iterator[tuple[str, Loc]]:
    """The non-blank lines of pasted text, stripped, with where each line's text starts.

    A literal block (``|``) keeps source lines one to one: its content starts
    on the line after the ``|`` and each line is the source line minus the
    block's indentation, so the column is what the stripped line leaves of the
    source line. Other scalar styles fold or escape their lines, so their lines
    are placed at the scalar's start.
    """
    for i, line in enumerate(LINE_BREAK.split(node.value)):
        text = line.strip()
        if not text:
            continue
        if node.style == "|":
            number = node.start_mark.line + 1 + i
            column = len(ctx.lines.line(number)) - len(line.lstrip())
            yield text, Loc(ctx.file, number + 1, column + 1)
        else:
            yield text, ctx.loc(node)
