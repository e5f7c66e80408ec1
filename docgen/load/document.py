"""The top-level fields of a data file → ``Document``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

import yaml

from docgen.load import keys
from docgen.load.body import parse_body
from docgen.load.nodes import (
    Ctx,
    Value,
    as_date,
    as_file,
    as_image,
    as_text,
    entries,
    fields,
    items,
    join_path,
    present,
    text_list,
    type_error,
)
from docgen.model import Attachment, Colophon, Document, Header, Meta, Signature
from docgen.style import STYLES_DIR

# The layouts the contract names; styles/ may hold more.
_STYLE_NAMES = ("red-header", "letter", "order", "minutes", "plain")
_SECRECY = ("绝密", "机密", "秘密")
_URGENCY = ("特急", "加急")
# A four-digit year in any bracket people type for the 六角括号 〔〕.
_YEAR = re.compile(r"([\[［【(（﹝〔〖])\s*(\d{4})\s*([\]］】)）﹞〕〗])")
# GB/T 9704 7.2.4: the sequence number takes no 第 and no leading zero.
_PADDED_NUMBER = re.compile(r"〕\s*(第|0\d)")
_TRAILING_COLON = re.compile(r"[：:]+$")


def build_document(ctx: Ctx, root: yaml.Node) -> Document:
    doc = Document(source=ctx.source)
    top = _section(ctx, doc, Value(root, "", "", "文件顶层"), keys.TOP)
    if v := present(top, "style"):
        doc.style = _style(ctx, v)
    if v := present(top, "header"):
        doc.header = _header(ctx, doc, v)
    if v := present(top, "title"):
        if isinstance(v.node, yaml.SequenceNode):
            doc.title_lines = text_list(ctx, v)
            if not doc.title_lines:
                raise ctx.error("标题列表为空 (title list is empty)", v.node, v.path)
            doc.title = "".join(doc.title_lines)
        else:
            doc.title = as_text(ctx, v)
    if v := present(top, "recipients"):
        doc.recipients = _recipients(ctx, v)
    if v := present(top, "body"):
        doc.body = parse_body(ctx, v)
    if v := present(top, "attachments"):
        doc.attachments = _attachments(ctx, v)
    if v := present(top, "signature"):
        doc.signature = _signature(ctx, doc, v)
    if v := present(top, "note"):
        doc.note = as_text(ctx, v) or None
    if v := present(top, "colophon"):
        doc.colophon = _colophon(ctx, doc, v)
    if v := present(top, "vars"):
        doc.variables = _variables(ctx, v)
    if v := present(top, "meta"):
        doc.meta = _meta(ctx, doc, v)
    return doc


def _section(ctx: Ctx, doc: Document, v: Value, table: Mapping[str, str]) -> dict[str, Value]:
    """A mapping's fields, with where each was given recorded in ``doc.locs`` for later warnings."""
    f = fields(ctx, v, table)
    for key in f:
        if value := present(f, key):
            doc.locs[value.key] = ctx.loc(value.node)
    return f


def _style(ctx: Ctx, v: Value) -> str:
    """A style name, or the absolute path of a style file."""
    name = as_text(ctx, v)
    if name.lower().endswith((".yaml", ".yml")):
        return str(as_file(ctx, v, "样式").resolve())
    known = sorted({*_STYLE_NAMES, *(p.stem for p in STYLES_DIR.glob("*.yaml"))})
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=1)
    hint = f'是否应为 "{close[0]}"？' if close else ""
    raise ctx.error(
        f'未知的格式 "{name}"，{hint}可用：{"、".join(known)}，或 .yaml 样式文件的路径 '
        f"(unknown style; expected one of {', '.join(known)} or a path to a .yaml style file)",
        v.node,
        v.path,
    )


def _recipients(ctx: Ctx, v: Value) -> list[str]:
    out = []
    for item in items(v):
        # The layout appends the colon; drop one the user typed.
        name = _TRAILING_COLON.sub("", as_text(ctx, item)).rstrip()
        if not name:
            raise ctx.error(f"{item.zh}不能为空 (empty entry)", item.node, item.path)
        out.append(name)
    return out


def _header(ctx: Ctx, doc: Document, v: Value) -> Header:
    f = _section(ctx, doc, v, keys.HEADER)
    header = Header()
    if c := present(f, "copy_no"):
        header.copy_no = as_text(ctx, c)
        if not re.fullmatch(r"[0-9]+", header.copy_no):
            raise ctx.error(f'{c.zh}应为数字，实际为 "{header.copy_no}" (expected digits, e.g. 000001)', c.node, c.path)
        if len(header.copy_no) != 6:
            ctx.warn(
                f'{c.zh}应为 6 位数字，实际为 {len(header.copy_no)} 位 "{header.copy_no}" '
                "(copy number should have 6 digits, e.g. 000001)",
                ctx.loc(c.node),
                c.path,
            )
    if s := present(f, "secrecy"):
        header.secrecy = as_text(ctx, s)
        if not header.secrecy.startswith(_SECRECY):
            raise ctx.error(
                f'{s.zh}应以 绝密、机密 或 秘密 开头（如 秘密★1年），实际为 "{header.secrecy}" '
                "(expected 绝密, 机密 or 秘密, e.g. 秘密★1年)",
                s.node,
                s.path,
            )
    if u := present(f, "urgency"):
        header.urgency = as_text(ctx, u)
        if header.urgency not in _URGENCY:
            raise ctx.error(
                f'{u.zh}应为 特急 或 加急，实际为 "{header.urgency}" (expected 特急 or 加急)', u.node, u.path
            )
    if m := present(f, "issuer_mark"):
        header.issuer_mark = text_list(ctx, m)
    if d := present(f, "doc_number"):
        header.doc_number = _doc_number(ctx, d)
    if s := present(f, "signers"):
        header.signers = text_list(ctx, s)
    if n := present(f, "minutes_no"):
        header.minutes_no = as_text(ctx, n) or None
    return header


def _doc_number(ctx: Ctx, v: Value) -> str | None:
    text = as_text(ctx, v)
    year = _YEAR.search(text)
    if year and (year.group(1), year.group(3)) != ("〔", "〕"):
        fixed = f"{text[: year.start()]}〔{year.group(2)}〕{text[year.end() :]}"
        raise ctx.error(
            f'{v.zh}的年份应用六角括号〔〕括入，应写作 "{fixed}"，实际为 "{text}" '
            f"(the year in a document number takes 〔〕, e.g. {fixed})",
            v.node,
            v.path,
        )
    if _PADDED_NUMBER.search(text):
        ctx.warn(
            f'{v.zh}的顺序号不加“第”字、不编虚位（1 不编为 01），实际为 "{text}" '
            "(the sequence number takes no 第 and no leading zero)",
            ctx.loc(v.node),
            v.path,
        )
    return text or None


def _signature(ctx: Ctx, doc: Document, v: Value) -> Signature:
    f = _section(ctx, doc, v, keys.SIGNATURE)
    signature = Signature()
    if i := present(f, "issuer"):
        signature.issuers = text_list(ctx, i)
    if d := present(f, "date"):
        signature.date = as_date(ctx, d)
    if s := present(f, "seal"):
        if isinstance(s.node, yaml.MappingNode):
            raise type_error(ctx, s, "图片路径或路径列表", "an image path or a list of them")
        signature.seals = [as_image(ctx, seal) for seal in items(s)]
    if s := present(f, "signer"):
        signature.signer = as_text(ctx, s) or None
    return signature


def _colophon(ctx: Ctx, doc: Document, v: Value) -> Colophon:
    f = _section(ctx, doc, v, keys.COLOPHON)
    colophon = Colophon()
    if c := present(f, "cc"):
        colophon.cc = text_list(ctx, c)
    if p := present(f, "printer"):
        colophon.printer = as_text(ctx, p) or None
    if d := present(f, "print_date"):
        colophon.print_date = as_date(ctx, d)
    return colophon


def _meta(ctx: Ctx, doc: Document, v: Value) -> Meta:
    f = _section(ctx, doc, v, keys.META)
    return Meta(**{key: as_text(ctx, value) or None for key in keys.META if (value := present(f, key))})


def _attachments(ctx: Ctx, v: Value) -> list[Attachment]:
    if not isinstance(v.node, yaml.SequenceNode):
        raise type_error(ctx, v, "列表（每项含 title 与 body）", "a list of {title, body}")
    out = []
    for item in items(v):
        f = fields(ctx, item, keys.ATTACHMENT)
        title = present(f, "title")
        text = as_text(ctx, title) if title else ""
        if not text:
            raise ctx.error("附件缺少标题 (an attachment needs a title)", item.node, item.path)
        body = present(f, "body")
        out.append(Attachment(text, parse_body(ctx, body) if body else [], ctx.loc(item.node)))
    return out


def _variables(ctx: Ctx, v: Value) -> dict[str, str]:
    """``vars``: name → text, kept for the placeholder substitution; a null value is an empty string."""
    out = {}
    for key, key_node, value_node in entries(ctx, v):
        path = join_path(v.path, key)
        name = as_text(ctx, Value(key_node, path, path, "变量名"))  # checked like any text
        out[name] = as_text(ctx, Value(value_node, path, join_path(v.key, key), f"变量“{key}”"))
    return out
