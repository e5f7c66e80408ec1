"""The document model: plain dataclasses for the parts of a 公文.

Takes nothing; everything downstream (layout, render) reads these classes and
never the YAML. Every form of input (English keys, Chinese aliases, pasted
text bodies) is turned into this one model by ``docgen.load``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Loc:
    """Where a value came from in a data file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# ---------------------------------------------------------------- 版头


@dataclass
class Header:
    """版头 (header zone)."""

    copy_no: str | None = None
    secrecy: str | None = None
    urgency: str | None = None
    issuer_mark: list[str] = field(default_factory=list)  # one organ a line
    doc_number: str | None = None
    signers: list[str] = field(default_factory=list)  # non-empty → 上行文
    minutes_no: str | None = None


# ---------------------------------------------------------------- 主体 blocks


@dataclass
class Paragraph:
    """A body paragraph; the first line is indented two characters."""

    text: str
    loc: Loc | None = None


@dataclass
class Heading:
    """A numbered heading of level 1–4 (一、 （一） 1. （1）).

    ``run_in`` is the text that continues in the same paragraph after a
    run-in heading. ``number`` is an ordinal kept from pasted text when the
    style keeps pasted numbers; None means "number automatically".
    """

    level: int
    text: str
    run_in: str | None = None
    number: str | None = None
    loc: Loc | None = None


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    loc: Loc | None = None


@dataclass
class Image:
    path: Path
    width_mm: float | None = None
    loc: Loc | None = None


@dataclass
class PageBreak:
    loc: Loc | None = None


Block = Paragraph | Heading | Table | Image | PageBreak


@dataclass
class Attachment:
    title: str
    body: list[Block] = field(default_factory=list)
    loc: Loc | None = None


@dataclass
class Signature:
    """发文机关署名, 成文日期 and 印章; several issuers for joint issuing."""

    issuers: list[str] = field(default_factory=list)
    date: dt.date | None = None
    seals: list[Path] = field(default_factory=list)
    signer: str | None = None  # 签发人职务姓名, for the order format


# ---------------------------------------------------------------- 版记


@dataclass
class Colophon:
    cc: list[str] = field(default_factory=list)
    printer: str | None = None
    print_date: dt.date | None = None

    def is_empty(self) -> bool:
        return not (self.cc or self.printer or self.print_date)


@dataclass
class Meta:
    author: str | None = None
    subject: str | None = None
    keywords: str | None = None


# ---------------------------------------------------------------- document


@dataclass
class Document:
    source: Path
    style: str = "red-header"
    header: Header = field(default_factory=Header)
    title: str = ""
    title_lines: list[str] | None = None  # explicit breaks given by the user
    recipients: list[str] = field(default_factory=list)
    body: list[Block] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    signature: Signature = field(default_factory=Signature)
    note: str | None = None
    colophon: Colophon = field(default_factory=Colophon)
    meta: Meta = field(default_factory=Meta)
    variables: dict[str, str] = field(default_factory=dict)
    # Source positions of top-level fields ("title", "signature.date" …), for
    # warnings that the layout raises after loading.
    locs: dict[str, Loc] = field(default_factory=dict)
