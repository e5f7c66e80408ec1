"""Shared fixtures: every example built once per test session, read back from the PDF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from docgen.build import build_document, fill
from docgen.fonts import load_fontset
from docgen.layout import layout_document
from docgen.layout.boxes import Layout
from docgen.load import load_document_text
from docgen.load.nodes import read_source
from docgen.pdftext import PdfPage, read_pdf
from docgen.style import Style, load_style

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "report-2022": ROOT / "data" / "report-2022.yaml",
    "notice": ROOT / "examples" / "notice.yaml",
    "request": ROOT / "examples" / "request.yaml",
    "joint-notice": ROOT / "examples" / "joint-notice.yaml",
    "stress": ROOT / "examples" / "stress.yaml",
    "annual-report": ROOT / "examples" / "yearly" / "annual-report.yaml",  # a template, with its vars' defaults
}


@dataclass
class Built:
    pdf: Path
    docx: Path
    layout: Layout
    style: Style
    pages: list[PdfPage]


@pytest.fixture(scope="session")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("built")


@pytest.fixture(scope="session")
def built(out_dir: Path) -> dict[str, Built]:
    result = {}
    for stem, source in SOURCES.items():
        doc = load_document_text(fill(read_source(source), source, {}), source)
        style = load_style(doc.style, doc.source.parent)
        build_document(doc, out_dir, stem)
        layout = layout_document(doc, style, load_fontset())
        pdf = out_dir / f"{stem}.pdf"
        result[stem] = Built(pdf, out_dir / f"{stem}.docx", layout, style, read_pdf(pdf))
    return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the .docx/PDF fidelity figures of the run (docgen.fidelity)."""
    import test_fidelity

    lines = test_fidelity.fidelity_summary()
    if lines:
        terminalreporter.section("LibreOffice 渲染 .docx 与 PDF 对比 (docx vs PDF fidelity)")
        for line in lines:
            terminalreporter.write_line(line)
