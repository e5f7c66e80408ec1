"""Reading a PDF back as lines of text with positions (pdfplumber).

Takes a PDF file; returns its pages as lists of ``TextLine`` (characters
grouped by baseline). The tests measure our PDFs with it, and the fidelity
check compares our PDF with LibreOffice's rendering of our .docx through it.
pdfplumber is the maintained pdfminer front end and gives each character's
font, size, colour and box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MM_PER_PT = 25.4 / 72


@dataclass
class TextLine:
    baseline: float  # pt from the page top
    chars: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    @property
    def x0_mm(self) -> float:
        return self.chars[0]["x0"] * MM_PER_PT

    @property
    def x1_mm(self) -> float:
        return self.chars[-1]["x1"] * MM_PER_PT

    @property
    def top_mm(self) -> float:
        return min(c["top"] for c in self.chars) * MM_PER_PT

    @property
    def bottom_mm(self) -> float:
        return max(c["bottom"] for c in self.chars) * MM_PER_PT

    @property
    def centre_mm(self) -> float:
        return (self.x0_mm + self.x1_mm) / 2

    def fonts(self) -> set[str]:
        return {font_name(c["fontname"]) for c in self.chars if c["text"].strip()}


@dataclass
class PdfPage:
    lines: list[TextLine]
    width: float
    height: float
    rects: list[dict]
    lines_drawn: list[dict]
    images: list[dict]
    curves: list[dict]


def font_name(name: str) -> str:
    """Drop the subset prefix ABCDEF+."""
    return name.split("+", 1)[1] if "+" in name[:7] else name


def read_pdf(path: Path, tolerance: float = 2.0) -> list[PdfPage]:
    import pdfplumber

    pages = []
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            chars = [c for c in page.chars if c["text"] not in ("\u200b",)]
            lines: list[TextLine] = []
            for char in sorted(chars, key=lambda c: (page.height - c["matrix"][5], c["x0"])):
                baseline = page.height - char["matrix"][5]
                if lines and abs(lines[-1].baseline - baseline) <= tolerance:
                    lines[-1].chars.append(char)
                else:
                    lines.append(TextLine(baseline, [char]))
            for line in lines:
                line.chars.sort(key=lambda c: c["x0"])
            pages.append(
                PdfPage(lines, page.width, page.height, list(page.rects), list(page.lines), list(page.images),
                        list(page.curves))
            )
    return pages


def line_texts(pages: list[PdfPage]) -> list[list[str]]:
    """Each page's line texts, spaces removed (renderers differ in how they emit spaces)."""
    return [[line.text.replace(" ", "") for line in page.lines if line.text.strip()] for page in pages]
