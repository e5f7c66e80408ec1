"""Load a data file (the YAML contract, docs yaml-format.md) into a ``Document``.

Takes a path, or text plus the path it stands for (after template
substitution); returns the model, and with the ``*_with_warnings`` forms also
the warnings (heading numbers out of sequence, a copy number that is not 6
digits …), each formatted ``file:line:col: field: message`` like DocgenError.
Bad input raises DocgenError naming file, line, column and field. Relative
paths inside the file (images, seals, CSV, style files) are relative to it.

Modules: ``nodes`` reads the file and checks scalar values on the YAML nodes,
``keys`` holds the English keys and their Chinese aliases, ``body`` turns
blocks and pasted text into paragraphs and headings, ``document`` builds the
rest of the Document.
"""

from __future__ import annotations

from pathlib import Path

from docgen.load.document import build_document
from docgen.load.nodes import Ctx, compose, read_source
from docgen.model import Document

__all__ = [
    "load_document",
    "load_document_text",
    "load_document_text_with_warnings",
    "load_document_with_warnings",
]


def load_document(path: Path) -> Document:
    return load_document_with_warnings(path)[0]


def load_document_with_warnings(path: Path) -> tuple[Document, list[str]]:
    return load_document_text_with_warnings(read_source(path), path)


def load_document_text(text: str, source: Path) -> Document:
    return load_document_text_with_warnings(text, source)[0]


def load_document_text_with_warnings(text: str, source: Path) -> tuple[Document, list[str]]:
    ctx = Ctx(text.removeprefix("\ufeff"), source)  # a BOM is not content; dropping it keeps columns right
    return build_document(ctx, compose(ctx)), ctx.warnings
