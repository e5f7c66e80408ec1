"""模板 (templates): ``{{ name }}`` placeholders in a data file, filled before loading.

Takes a data file's text and the values given from outside (``--vars``, a CSV
row, ``--set``); returns the text with every placeholder filled, ready for
``docgen.load``. The ``vars``/``变量`` mapping in the file gives the defaults.

Placeholders are filled inside YAML *scalars*, never in the raw text: the file
is first parsed with each placeholder masked by private-use characters of the
same length, then each scalar holding one is rendered and written back
double-quoted (a literal ``|`` block stays a literal block when that is safe).
So a value such as ``A: B #1``, ``**`` or ``- x`` is text and can never add a
key or a list item, and the rendered file keeps the user's line numbers, so
the loader's errors still point into the file the user wrote.

Why Jinja2's ``SandboxedEnvironment``: data files travel between offices and
the CSV rows come from spreadsheets, so a template must not reach Python
internals (``''.__class__.__mro__``, ``__globals__``); the sandbox refuses
those. There is no loader, so ``{% include %}``/``{% import %}`` cannot read
files (refused before rendering with a clear message), and the globals are
emptied, so nothing but the variables is in scope: no environment, no
``cycler`` or ``lipsum``. ``StrictUndefined`` makes a misspelt name an error
naming it, never an empty string printed in an official document.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2 import nodes as jnodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from yaml.reader import Reader
from yaml.resolver import Resolver

from docgen.errors import DocgenError
from docgen.load.nodes import LINE_BREAK, NULL_TAG, Ctx, Value, compose, entries, read_source, scalar_nodes
from docgen.model import Loc

VARS_KEYS = ("vars", "变量")
# One placeholder, on one line: an expression, a statement or a comment.
PLACEHOLDER = re.compile(
    r"\{\{[^\r\n\x85\u2028\u2029]*?\}\}|\{%[^\r\n\x85\u2028\u2029]*?%\}|\{#[^\r\n\x85\u2028\u2029]*?#\}"
)
# An anchor or tag written before a scalar (``&a``, ``!!str``): kept as written.
_PROPERTIES = re.compile(r"(?:[&!]\S*\s+)*")
# Rendered values that may stay plain so that they keep their YAML type
# (``page_break: {{ flag }}`` must still be a boolean); none can start structure.
_PLAIN_SAFE = re.compile(r"(?i:true|false|yes|no|on|off|null)|~|[-+]?[0-9]+(?:\.[0-9]+)?")
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r\t\x85\u2028\u2029]|' + Reader.NON_PRINTABLE.pattern)
_RESOLVER = Resolver()
_REFUSED_TAGS = (jnodes.Include, jnodes.Import, jnodes.FromImport, jnodes.Extends)
# Bounds on what one expression may build, so a template cannot exhaust a worker's memory.
_MAX_LENGTH = 100_000
_MAX_EXPONENT = 1_000


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` bounded (``'x' * 10**10`` would take all memory)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > _MAX_LENGTH:
                    raise SecurityError(f"result longer than {_MAX_LENGTH}")
        return super().call_binop(context, operator, left, right)


class _FileAccess(SecurityError):
    """A template asked for another template file ({% include %}, {% import %}, {% extends %})."""


_ENV = _Sandbox(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
_ENV.globals.clear()


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> jinja2.Template:
    """A compiled template (cached: a batch renders the same scalars for every row)."""
    ast = _ENV.parse(source)
    if next(ast.find_all(_REFUSED_TAGS), None) is not None:
        raise _FileAccess("include/import/extends")
    return _ENV.from_string(ast)


def _render(source: str, values: Mapping[str, str]) -> str:
    return _compile(source).render(values)


def template_error(exc: Exception, loc: Loc | None) -> DocgenError:
    """A Jinja2 failure as a user error: Chinese first, English beside, with where it happened.

    The CSV row, when there is one, is named by the batch before the message.
    """
    if isinstance(exc, UndefinedError):
        name = _undefined_name(exc)
        if name:
            message = (
                f"未定义的变量 “{name}”：请在 vars（变量）中给出默认值，或用 --set {name}=… 、"
                f"--vars 文件或 --each 表格的列给出 (undefined variable '{name}')"
            )
        else:
            message = f"模板取值出错：{exc} (template value error: {exc})"
    elif isinstance(exc, SecurityError):
        if isinstance(exc, _FileAccess):
            message = (
                "模板中不能使用 include、import、extends，不能读取其他文件 "
                "(templates cannot include, import or extend files)"
            )
        else:
            message = f"模板中不允许此操作（安全限制）：{exc} (not allowed in a template)"
    elif isinstance(exc, TemplateSyntaxError):
        message = f"模板语法错误：{exc.message} (template syntax error: {exc.message})"
    else:
        message = f"模板出错：{exc} (template error: {type(exc).__name__}: {exc})"
    return DocgenError(message, loc)


def _undefined_name(exc: UndefinedError) -> str | None:
    m = re.fullmatch(r"'(.+)' is undefined", str(exc))
    return m.group(1) if m else None


def render_string(source: str, values: Mapping[str, str], what: str) -> str:
    """A one-off template such as ``--name`` (no file, so no line to point at)."""
    try:
        return _render(source, values)
    except Exception as exc:  # any failure of user template code is the user's to fix
        raise DocgenError(f"{what}：{template_error(exc, None)}") from None


# ---------------------------------------------------------------- data files


@dataclass(frozen=True)
class Placeholder:
    text: str  # as written: ``{{ year }}``
    loc: Loc


@dataclass(frozen=True)
class Default:
    """One entry of the file's ``vars``: its value as written, maybe a template itself."""

    name: str
    value: str
    loc: Loc
    node: yaml.ScalarNode


@dataclass(frozen=True)
class DataTemplate:
    """A data file parsed with its placeholders masked."""

    source: Path
    text: str
    masks: dict[str, Placeholder]  # mask character → the placeholder it stands for
    mask_runs: re.Pattern[str]  # a run of one mask character: one placeholder
    scalars: tuple[yaml.ScalarNode, ...]  # the scalars holding a placeholder, in file order
    defaults: tuple[Default, ...] = ()

    def unmask(self, value: str) -> str:
        return self.mask_runs.sub(lambda m: self.masks[m.group()[0]].text, value)


def read_vars_file(path: Path) -> dict[str, str]:
    """``--vars FILE.yaml``: a mapping name → value, each value as written (``000001`` stays ``000001``)."""
    if not path.is_file():
        raise DocgenError(f"找不到变量文件 {path} (--vars file not found)")
    ctx = Ctx(read_source(path).removeprefix("\ufeff"), path)
    out = {}
    for name, _, node in entries(ctx, Value(compose(ctx), "", "", "变量文件")):
        if not isinstance(node, yaml.ScalarNode):
            raise ctx.error(f"变量“{name}”的值应为文字 (a variable's value must be a string)", node, name)
        out[name] = "" if node.tag == NULL_TAG else node.value
    return out


def has_placeholders(text: str) -> bool:
    return PLACEHOLDER.search(text) is not None


@functools.lru_cache(maxsize=16)
def parse_template(text: str, source: Path) -> DataTemplate:
    """Parse ``text`` with its placeholders masked (cached: every row of a batch shares one parse).

    Each placeholder becomes a run of one private-use character of the same
    length, so positions, and so YAML's marks, are those of the user's text.
    """
    text = text.removeprefix("\ufeff")
    found = list(PLACEHOLDER.finditer(text))
    free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    masks: dict[str, Placeholder] = {}
    pieces, last = [], 0
    lines = Ctx(text, source).lines
    for match, ch in zip(found, free, strict=False):
        masks[ch] = Placeholder(match.group(), lines.loc(str(source), match.start()))
        pieces += [text[last : match.start()], ch * len(match.group())]
        last = match.end()
    if len(masks) < len(found):
        raise DocgenError(f"占位符过多（{len(found)} 个）(too many placeholders)", Loc(str(source), 1, 1))
    masked = "".join([*pieces, text[last:]])
    root = compose(Ctx(masked, source))  # YAML syntax errors, located and in Chinese
    scalars = [node for node in scalar_nodes(root) if any(ch in node.value for ch in masks)]
    scalars.sort(key=lambda n: n.start_mark.index)
    runs = re.compile("|".join(f"{re.escape(ch)}+" for ch in masks) or "(?!)")
    template = DataTemplate(source, text, masks, runs, tuple(scalars))
    return dataclasses.replace(template, defaults=tuple(_defaults(template, root)))


def _defaults(template: DataTemplate, root: yaml.Node) -> list[Default]:
    """The ``vars`` mapping's entries: name, value as written (placeholders restored), where."""
    if not isinstance(root, yaml.MappingNode):
        return []
    ctx = Ctx(template.text, template.source)
    out = []
    for key, value in root.value:
        if not (isinstance(key, yaml.ScalarNode) and key.value in VARS_KEYS and isinstance(value, yaml.MappingNode)):
            continue
        for name_node, value_node in value.value:
            name = template.unmask(str(name_node.value))
            if not isinstance(value_node, yaml.ScalarNode):
                raise ctx.error(
                    f"变量“{name}”的值应为文字 (a variable's value must be a string)", value_node, f"{key.value}.{name}"
                )
            text = "" if value_node.tag == NULL_TAG else template.unmask(value_node.value)
            out.append(Default(name, text, ctx.loc(value_node), value_node))
    return out


def variables(template: DataTemplate, given: Mapping[str, str]) -> dict[str, str]:
    """Every variable's value: ``given`` (from outside) over the file's ``vars``.

    A default may use the variables before it (``title: "{{ county }}年度报告"``),
    and sees the outside values, so a CSV row's county reaches it.
    """
    out: dict[str, str] = {}
    for default in template.defaults:
        if default.name in given:
            continue
        try:
            value = _render(default.value, {**out, **given}) if has_placeholders(default.value) else default.value
        except Exception as exc:  # any failure of user template code is the user's to fix
            raise template_error(exc, default.loc) from None
        out[default.name] = value
    out.update(given)
    return out


def fill(text: str, source: Path, given: Mapping[str, str]) -> str:
    """``text`` with every placeholder rendered; unchanged when it has none.

    ``given`` overrides the file's ``vars``.
    """
    if not has_placeholders(text):
        return text
    template = parse_template(text, source)
    values = variables(template, given)
    # A vars entry takes its resolved value: one overridden from outside is not rendered at all.
    resolved = {id(d.node): values[d.name] for d in template.defaults}
    out, last = [], 0
    for node in template.scalars:
        start = _PROPERTIES.match(template.text, node.start_mark.index).end()  # keep &anchor and !tag
        end = node.end_mark.index
        try:
            rendered = resolved.get(id(node))
            if rendered is None:
                rendered = _render(template.unmask(node.value), values)
        except Exception as exc:  # any failure of user template code is the user's to fix
            raise template_error(exc, _error_loc(template, node, exc)) from None
        out += [template.text[last:start], _emit(template.text, node, start, end, rendered)]
        last = end
    out.append(template.text[last:])
    return "".join(out)


def _error_loc(template: DataTemplate, node: yaml.ScalarNode, exc: Exception) -> Loc:
    """The placeholder a Jinja2 error is about: the one naming the undefined variable,
    else the first on the template line Jinja2 names, else the scalar's first."""
    found = [
        (node.value.count("\n", 0, i), template.masks[ch]) for i, ch in enumerate(node.value) if ch in template.masks
    ]
    name = _undefined_name(exc) if isinstance(exc, UndefinedError) else None
    if name:
        named = [p for _, p in found if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", p.text)]
        if named:
            return named[0].loc
    lineno = getattr(exc, "lineno", None) or _template_line(exc)
    on_line = [p for line, p in found if lineno is not None and line == lineno - 1]
    return (on_line or [p for _, p in found])[0].loc


def _template_line(exc: Exception) -> int | None:
    """The template line of a runtime error: Jinja2 rewrites the traceback to name it."""
    lines = [line for frame, line in traceback.walk_tb(exc.__traceback__) if frame.f_code.co_filename == "<template>"]
    return lines[-1] if lines else None


def _emit(text: str, node: yaml.ScalarNode, start: int, end: int, value: str) -> str:
    """The YAML for ``value`` in place of ``text[start:end]``, on as many lines."""
    span = text[start:end]
    if (
        node.style is None
        and not LINE_BREAK.search(span)
        and _PLAIN_SAFE.fullmatch(value)
        and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str"
    ):
        return value
    if node.style == "|":
        literal = _literal(span, node.value, value)
        if literal is not None:
            return literal
    body = span.rstrip(" \t\r\n\x85\u2028\u2029")
    breaks = len(LINE_BREAK.findall(body))
    # An escaped line break (a backslash ending the line) adds nothing to the
    # value, so the quoted scalar takes as many lines as the text it replaces.
    indent = " " * (node.start_mark.column + 1)
    return f'"{_quote(value)}' + f"\\\n{indent}" * breaks + '"' + span[len(body) :]


def _quote(value: str) -> str:
    def escape(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        return f"\\x{ord(ch):02X}" if ord(ch) < 0x100 else f"\\u{ord(ch):04X}"

    return _NEEDS_ESCAPE.sub(escape, value)


def _literal(span: str, before: str, after: str) -> str | None:
    """The literal block again, its lines filled one for one; None when that is not safe.

    Keeping ``|`` keeps each pasted line at its source line (the loader reports
    heading numbers line by line). It is safe when the lines correspond one for
    one and the block still parses to the rendered value, checked by parsing it.
    """
    lines = after.rstrip("\n").split("\n")
    if len(lines) != len(before.rstrip("\n").split("\n")):
        return None
    header, _, content = span.partition("\n")
    indicators = re.match(r"\|[-+0-9]*", header)
    chomp = "".join(c for c in indicators.group() if c in "+-") if indicators else ""
    first = next((line for line in content.splitlines() if line.strip()), "")
    first_value = next((line for line in before.split("\n") if line.strip()), "")
    indent = " " * (len(first) - len(first.lstrip(" ")) - (len(first_value) - len(first_value.lstrip(" "))))
    if not indent:
        return None
    block = f"|{chomp}\n" + "\n".join(indent + line if line else "" for line in lines)
    tail = content[len(content.rstrip(" \t\r\n\x85\u2028\u2029")) :]  # the last line's break and blank lines
    try:
        parsed = yaml.compose(f"k: {block}{tail}", Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if parsed is None or parsed.value[0][1].value != after:
        return None
    return block + tail
