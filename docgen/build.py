"""One document through the whole pipeline: fill placeholders → load → layout → render → files.

Takes a data file (and the values for its ``{{ name }}`` placeholders) and an
output directory; returns what was written and the warnings. Both outputs are
rendered in memory before either is written, so bad input leaves no file
behind. Batches (many files, CSV rows, workers, the cache) are ``docgen.batch``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docgen.errors import DocgenError
from docgen.fonts import load_fontset
from docgen.layout import layout_document
from docgen.load import load_document_text_with_warnings
from docgen.load.nodes import read_source
from docgen.model import Document
from docgen.output import atomic_write
from docgen.render.docx import render_docx
from docgen.render.pdf import render_pdf
from docgen.style import Style, load_style
from docgen.template import fill

FORMATS = ("docx", "pdf")


@dataclass
class BuildResult:
    source: Path
    outputs: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pages: int = 0


def build_timestamp(doc: Document) -> dt.datetime:
    """A fixed time for file properties: SOURCE_DATE_EPOCH, else the 成文日期, else 2000-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).replace(tzinfo=None)
    if doc.signature.date:
        return dt.datetime.combine(doc.signature.date, dt.time())
    return dt.datetime(2000, 1, 1)


def document_style(doc: Document, style_name: str | None = None) -> Style:
    """The style a document is built in: ``style_name`` (the command line's --style) or the file's own."""
    try:
        return load_style(style_name or doc.style, doc.source.parent)
    except DocgenError as exc:
        if style_name is None and exc.loc is None:  # the data file chose it: say where
            exc.loc, exc.field = doc.locs.get("style"), "style"
        raise


def build_document(
    doc: Document,
    out_dir: Path,
    stem: str,
    formats: Sequence[str] = FORMATS,
    style_name: str | None = None,
    fonts: Mapping[str, str] | None = None,
) -> BuildResult:
    style = document_style(doc, style_name)
    fontset = load_fontset(fonts)
    layout = layout_document(doc, style, fontset)
    rendered: dict[Path, bytes] = {}
    if "docx" in formats:
        rendered[out_dir / f"{stem}.docx"] = render_docx(layout, doc, style, build_timestamp(doc))
    if "pdf" in formats:
        rendered[out_dir / f"{stem}.pdf"] = render_pdf(layout, doc, style)
    for path, data in rendered.items():
        atomic_write(path, data)
    return BuildResult(doc.source, list(rendered), layout.warnings, len(layout.pages))


def build_file(
    path: Path,
    out_dir: Path,
    formats: Sequence[str] = FORMATS,
    style_name: str | None = None,
    fonts: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> BuildResult:
    """Build ``path``; ``values`` override the file's ``vars`` for its placeholders."""
    text = fill(read_source(path), path, values or {})
    doc, load_warnings = load_document_text_with_warnings(text, path)
    result = build_document(doc, out_dir, path.stem, formats, style_name, fonts)
    result.warnings[:0] = load_warnings
    return result
