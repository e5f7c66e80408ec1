"""Reading a data file into YAML nodes, and turning nodes into checked values.

Why the nodes are validated by hand rather than with a schema library
(jsonschema, pydantic): those check constructed Python objects, which have lost
the line and column of the offending node, and they speak English only. The
contract also needs rules a schema cannot express: every key has a Chinese
alias and giving both is an error; a duplicate key (PyYAML silently keeps the
last) is an error; a string field keeps its source text (``000001`` and not the
integer 1). Walking ``yaml.compose`` nodes keeps every start mark, so each error
names file, line, column and field.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor
from yaml.reader import Reader
from yaml.scanner import Scanner

from docgen.errors import DocgenError
from docgen.model import Loc

NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# Line breaks as PyYAML counts them, so our positions agree with its marks.
LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
# XML 1.0 cannot hold these, so python-docx cannot write them; a tab is refused
# too because it would break the character grid of the body.
BAD_CHAR = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# One character of a double-quoted scalar's source: an escape or itself.
_DQ_TOKEN = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)|.", re.S)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Dates people write instead of YYYY-MM-DD, to suggest the right form.
_LOOSE_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")

_SCALAR_KINDS = {
    "tag:yaml.org,2002:str": ("文字", "a string"),
    "tag:yaml.org,2002:int": ("整数", "an integer"),
    "tag:yaml.org,2002:float": ("小数", "a number"),
    "tag:yaml.org,2002:bool": ("布尔值", "a boolean"),
    "tag:yaml.org,2002:timestamp": ("日期", "a date"),
    NULL_TAG: ("空值", "nothing"),
}

# The commonest PyYAML complaints, said in Chinese (found by phrase).
_YAML_PROBLEMS = {
    "mapping values are not allowed here": "此处不能有“键: 值”（缩进有误，或文字中的“: ”需要加引号）",
    "could not find expected ':'": "缺少冒号“:”",
    "found character '\\t' that cannot start any token": "此处不能有 Tab 字符（缩进和文字中都不能用），请换成空格",
    "found unexpected end of stream": "文件意外结束（常见原因：引号没有闭合）",
    "expected a single document in the stream": "一个文件只能有一个文档（多了 ---）",
    "found undefined alias": "引用了未定义的锚点",
    "expected <block end>": "缩进不一致",
    "did not find expected key": "缩进不一致，或列表项缺少“- ”",
    "did not find expected '-' indicator": "缩进不一致，或列表项缺少“- ”",
}

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
# Formats people try instead, named so the message says what the file is.
_OTHER_IMAGES = {b"GIF8": "GIF", b"BM": "BMP", b"RIFF": "WebP", b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"%PDF": "PDF"}


class LineIndex:
    """Character index → line and column, counting line breaks as PyYAML does."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]

    def loc(self, file: str, index: int) -> Loc:
        line = bisect.bisect_right(self.starts, index) - 1
        return Loc(file, line + 1, index - self.starts[line] + 1)

    def line(self, number: int) -> str:
        """The 0-based line ``number`` without its line break."""
        end = self.starts[number + 1] if number + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[number] : end].rstrip("\r\n\x85\u2028\u2029")


class Ctx:
    """One data file being loaded: its text, where its relative paths start, its warnings."""

    def __init__(self, text: str, source: Path) -> None:
        self.source = source
        self.file = str(source)
        self.base_dir = source.absolute().parent
        self.lines = LineIndex(text)
        self.warnings: list[str] = []

    def loc(self, node: yaml.Node) -> Loc:
        return Loc(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def loc_at(self, index: int) -> Loc:
        return self.lines.loc(self.file, index)

    def error(self, message: str, where: yaml.Node | Loc, field: str | None) -> DocgenError:
        loc = where if isinstance(where, Loc) else self.loc(where)
        return DocgenError(message, loc, field or None)

    def warn(self, message: str, loc: Loc, field: str) -> None:
        # Same shape as DocgenError.__str__, so warnings and errors read alike.
        self.warnings.append(f"{loc}: {field}: {message}")


@dataclass(frozen=True)
class Value:
    """A YAML node with the names it is reported under."""

    node: yaml.Node
    path: str  # as written, for messages: 落款.成文日期, body[3].h2
    key: str  # canonical English, for Document.locs: signature.date
    zh: str  # the field's Chinese name, for messages
    key_node: yaml.ScalarNode | None = None  # for a mapping field: its key, as written

    @property
    def where(self) -> yaml.Node:
        """The node to point at when the key itself is wrong."""
        return self.key_node or self.node

    @property
    def written(self) -> str:
        """The key as the user wrote it (English or Chinese), or the path for a list item."""
        return self.key_node.value if self.key_node else self.path

    def item(self, index: int, node: yaml.Node) -> Value:
        return Value(node, f"{self.path}[{index}]", f"{self.key}[{index}]", self.zh)


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# ---------------------------------------------------------------- reading


def read_source(path: Path) -> str:
    """The file's text; a file that is not UTF-8 is an error naming the line of the bad byte."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocgenError(f"找不到数据文件 {path} (data file not found)") from None
    except OSError as exc:
        raise DocgenError(f"无法读取数据文件 {path}：{exc.strerror} (cannot read the data file)") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        loc = Loc(str(path), data.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1)
        raise DocgenError(
            f"文件不是 UTF-8 编码：字节偏移 {exc.start} 处的字节 0x{data[exc.start]:02X} 无法解码，"
            f"请另存为 UTF-8 (file is not valid UTF-8; save it as UTF-8)",
            loc,
        ) from None


# libyaml's parser, where PyYAML was built with it: the same nodes and marks, several times faster.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(ctx: Ctx) -> yaml.Node:
    """The root node of the data file, with YAML syntax errors turned into DocgenError."""
    text = ctx.lines.text
    if not text.strip():
        raise ctx.error("文件为空 (file is empty; expected the document's fields)", Loc(ctx.file, 1, 1), None)
    # PyYAML refuses control characters before parsing, without saying in which
    # field. Mask them, parse, then put them back into their scalars so that
    # the text checks report them with field and column like any other.
    found = [(m.start(), m.group()) for m in Reader.NON_PRINTABLE.finditer(text)]
    mask = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text) if found else ""
    if found:
        text = Reader.NON_PRINTABLE.sub(mask, text)
    try:
        root = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError:
        # libyaml's messages are terser; the pure-Python parser says the same
        # thing in the words our Chinese messages are keyed on.
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(ctx, exc) from None
    if root is None:
        raise ctx.error("文件中只有注释，没有内容 (file has no content)", Loc(ctx.file, 1, 1), None)
    if found:
        _unmask(root, mask, found)
    return root


def _syntax_error(ctx: Ctx, exc: yaml.MarkedYAMLError) -> DocgenError:
    english = ", ".join(part for part in (exc.context, exc.problem) if part) or "syntax error"
    zh = next((z for phrase, z in _YAML_PROBLEMS.items() if phrase in english), "")
    mark = exc.problem_mark or exc.context_mark
    loc = Loc(ctx.file, mark.line + 1, mark.column + 1) if mark else Loc(ctx.file, 1, 1)
    return DocgenError(f"YAML 语法错误{'：' + zh if zh else ''} (YAML syntax error: {english})", loc)


def scalar_nodes(root: yaml.Node) -> Iterator[yaml.ScalarNode]:
    """Every scalar below ``root``, once each (an alias shares its anchor's node)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            yield node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        else:
            stack.extend(node.value)


def _unmask(root: yaml.Node, mask: str, found: list[tuple[int, str]]) -> None:
    for node in scalar_nodes(root):
        if mask in node.value:
            start, end = node.start_mark.index, node.end_mark.index
            chars = iter([ch for i, ch in found if start <= i < end])
            first, *rest = node.value.split(mask)
            node.value = first + "".join(next(chars, "") + part for part in rest)


# ---------------------------------------------------------------- mappings


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG


def type_error(ctx: Ctx, v: Value, zh_expected: str, en_expected: str) -> DocgenError:
    if isinstance(v.node, yaml.MappingNode):
        zh, en = "映射", "a mapping"
    elif isinstance(v.node, yaml.SequenceNode):
        zh, en = "列表", "a list"
    else:
        zh, en = _SCALAR_KINDS.get(v.node.tag, ("文字", "a string"))
    return ctx.error(f"{v.zh}应为{zh_expected}，实际为{zh} (expected {en_expected}, got {en})", v.node, v.path)


def entries(ctx: Ctx, v: Value) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """(key, key node, value node) of a mapping; a key given twice is an error."""
    if not isinstance(v.node, yaml.MappingNode):
        raise type_error(ctx, v, "映射（键: 值）", "a mapping of key: value")
    seen: dict[str, yaml.Node] = {}
    out = []
    for key_node, value_node in v.node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ctx.error("键应为文字 (a key must be a plain string)", key_node, v.path)
        key = key_node.value
        if key_node.tag == _MERGE_TAG:
            raise ctx.error(
                "不支持 YAML 合并键 << (merge keys are not supported; write the keys out)", key_node, v.path
            )
        if key in seen:
            first = seen[key].start_mark.line + 1
            raise ctx.error(
                f'键 "{key}" 重复，第 {first} 行已有 (duplicate key; the first is on line {first})',
                key_node,
                join_path(v.path, key),
            )
        seen[key] = key_node
        out.append((key, key_node, value_node))
    return out


def fields(ctx: Ctx, v: Value, table: Mapping[str, str]) -> dict[str, Value]:
    """A mapping's values by canonical English key, accepting the Chinese aliases in ``table``.

    Null values are kept (see ``present``) so that a key's presence can still
    decide, for example, what kind a body block is.
    """
    english = {zh: en for en, zh in table.items()}
    out: dict[str, Value] = {}
    for key, key_node, value_node in entries(ctx, v):
        path = join_path(v.path, key)
        en = key if key in table else english.get(key)
        if en is None:
            raise ctx.error(_unknown_key(key, table), key_node, path)
        if en in out:
            other = table[en] if key == en else en
            raise ctx.error(
                f'"{other}" 与 "{key}" 是同一字段，只能写一个 ({en} and {table[en]} are the same field; give only one)',
                key_node,
                path,
            )
        out[en] = Value(value_node, path, join_path(v.key, en), table[en], key_node)
    return out


def _unknown_key(key: str, table: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(key, [*table, *table.values()], n=1, cutoff=0.5)
    if close:
        return f'未知的键 "{key}"，是否应为 "{close[0]}"？(unknown key "{key}"; did you mean "{close[0]}"?)'
    listing = "、".join(f"{en}（{zh}）" for en, zh in table.items())
    return f'未知的键 "{key}"，可用的键：{listing} (unknown key "{key}"; expected one of: {", ".join(table)})'


def present(f: Mapping[str, Value], key: str) -> Value | None:
    """The field's value, or None when it is missing or left empty (``key:`` or ``key: ~``)."""
    v = f.get(key)
    return None if v is None or is_null(v.node) else v


def items(v: Value) -> list[Value]:
    """The values of a field the contract allows as one value or a list of them."""
    if isinstance(v.node, yaml.SequenceNode):
        return [v.item(i, node) for i, node in enumerate(v.node.value)]
    return [v]


# ---------------------------------------------------------------- scalars


def bad_char(text: str, zh: str) -> tuple[int, str] | None:
    """The index of the first character a .docx cannot hold (or a tab) in ``text``, and the message."""
    m = BAD_CHAR.search(text)
    if m is None:
        return None
    ch = m.group()
    if ch == "\t":
        return m.start(), f"{zh}中有制表符（Tab，U+0009），请换成空格或删去 (tab character in text; use spaces)"
    code = f"U+{ord(ch):04X}"
    return (
        m.start(),
        f"{zh}中有控制字符 {code}，无法写入 .docx，请删去 (control character {code} cannot go into a .docx)",
    )


def check_chars(ctx: Ctx, v: Value, text: str) -> None:
    """Refuse a bad character in a scalar's text, naming field, code point and its own column."""
    found = bad_char(text, v.zh)
    if found:
        index, message = found
        raise ctx.error(message, _char_loc(ctx, v.node, text, index), v.path)


def _char_loc(ctx: Ctx, node: yaml.Node, value: str, index: int) -> Loc:
    """Where ``value[index]`` is in the source: the same occurrence of it, raw or as an escape."""
    ch = value[index]
    nth = value.count(ch, 0, index)
    start = node.start_mark.index
    span = ctx.lines.text[start : node.end_mark.index]
    tokens = _DQ_TOKEN.finditer(span) if node.style == '"' else re.finditer(re.escape(ch), span)
    hits = (m.start() for m in tokens if _unescape(m.group()) == ch)
    pos = next(itertools.islice(hits, nth, None), None)
    return ctx.loc(node) if pos is None else ctx.loc_at(start + pos)


def _unescape(token: str) -> str:
    if len(token) < 2:
        return token
    if token[1] in Scanner.ESCAPE_CODES:
        return chr(int(token[2:], 16))
    return Scanner.ESCAPE_REPLACEMENTS.get(token[1], token)


def as_text(ctx: Ctx, v: Value) -> str:
    """A one-line string, stripped; empty for a null value.

    Uses the node's source text, not the value PyYAML would construct, so
    ``000001`` stays ``000001`` and ``2023-01-05`` stays text.
    """
    if not isinstance(v.node, yaml.ScalarNode):
        raise type_error(ctx, v, "文字", "a string")
    if v.node.tag == NULL_TAG:
        return ""
    check_chars(ctx, v, v.node.value)
    text = v.node.value.strip()
    if LINE_BREAK.search(text):
        raise ctx.error(
            f"{v.zh}中不能换行；需要多行请写成列表，每项一行 (no line break allowed here; use a list, one item a line)",
            v.node,
            v.path,
        )
    return text


def text_list(ctx: Ctx, v: Value) -> list[str]:
    """A string or a list of strings (issuers, cc, recipients …) as a list of non-empty strings."""
    if isinstance(v.node, yaml.MappingNode):
        raise type_error(ctx, v, "文字或文字列表", "a string or a list of strings")
    out = []
    for item in items(v):
        text = as_text(ctx, item)
        if not text:
            raise ctx.error(f"{item.zh}不能为空 (empty entry)", item.node, item.path)
        out.append(text)
    return out


def as_date(ctx: Ctx, v: Value) -> dt.date:
    """A real calendar date written YYYY-MM-DD (a YAML timestamp or a quoted string)."""
    text = as_text(ctx, v)
    m = _DATE.fullmatch(text)
    if m:
        try:
            return dt.date(*map(int, m.groups()))
        except ValueError:
            pass
    hint = ""
    loose = _LOOSE_DATE.fullmatch(text)
    if loose and not m:
        year, month, day = map(int, loose.groups())
        hint = f"，请写作 {year:04d}-{month:02d}-{day:02d}"
    raise ctx.error(
        f'{v.zh}应为 YYYY-MM-DD 格式的日期，实际为 "{text}"{hint} (expected a date YYYY-MM-DD)', v.node, v.path
    )


def as_number(ctx: Ctx, v: Value) -> float:
    if isinstance(v.node, yaml.ScalarNode) and v.node.tag != NULL_TAG:
        try:
            number = float(v.node.value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise type_error(ctx, v, "数", "a number")


def as_bool(ctx: Ctx, v: Value) -> bool:
    if isinstance(v.node, yaml.ScalarNode) and v.node.tag == "tag:yaml.org,2002:bool":
        return SafeConstructor.bool_values[v.node.value.lower()]
    raise type_error(ctx, v, "true 或 false", "true or false")


def as_file(ctx: Ctx, v: Value, what: str) -> Path:
    """An existing file; a relative path is relative to the data file."""
    text = as_text(ctx, v)
    if not text:
        raise ctx.error(f"{v.zh}应为文件路径，实际为空 (expected a file path)", v.node, v.path)
    path = Path(text)
    if not path.is_absolute():
        path = ctx.base_dir / path
    if not path.is_file():
        raise ctx.error(f'找不到{what}文件 "{text}"（{path}）(file not found)', v.node, v.path)
    return path


def as_image(ctx: Ctx, v: Value) -> Path:
    """An existing PNG or JPEG file, told by its first bytes rather than its name."""
    path = as_file(ctx, v, "图片")
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ctx.error(f"无法读取图片文件 {path}：{exc.strerror} (cannot read the image)", v.node, v.path) from None
    if head.startswith((_PNG, _JPEG)):
        return path
    kind = next((name for magic, name in _OTHER_IMAGES.items() if head.startswith(magic)), None)
    found = f"这是 {kind} 文件" if kind else "文件内容不是图片"
    raise ctx.error(
        f'{v.zh} "{path.name}" 应为 PNG 或 JPEG 图片，{found} (expected a PNG or JPEG image'
        f"{', got ' + kind if kind else ''})",
        v.node,
        v.path,
    )
