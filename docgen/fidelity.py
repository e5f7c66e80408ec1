"""Same document twice: LibreOffice's rendering of our .docx against our own PDF.

Takes .docx files and the PDFs we drew; converts the .docx with LibreOffice
(one soffice call for many files, a private profile) and compares page
counts and the text of every line (characters grouped by baseline).

One difference is known and allowed: LibreOffice 7.4 breaks a justified line
exactly where we do when a ，。、； hangs in the right margin, but does not
paint the hung mark (fonts-rendering.md §4). Such a line counts as matching
with that known difference; nothing else does.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from docgen.layout.linebreak import HANGING
from docgen.pdftext import line_texts, read_pdf


@dataclass
class Comparison:
    name: str
    pages_ours: int
    pages_theirs: int
    lines: int = 0
    identical: int = 0
    hung_mark_lost: int = 0  # the known LibreOffice difference
    differences: list[tuple[int, int, str, str]] = field(default_factory=list)  # page, line, ours, theirs

    @property
    def matching_share(self) -> float:
        return (self.identical + self.hung_mark_lost) / self.lines if self.lines else 1.0

    def summary(self) -> str:
        text = (
            f"{self.name}: 页数 pages {self.pages_ours}/{self.pages_theirs}, 行 lines {self.lines}, "
            f"相同 identical {self.identical}, 悬挂标点未绘出 hung mark not painted {self.hung_mark_lost}, "
            f"一致率 matching {self.matching_share:.1%}"
        )
        for page, line, ours, theirs in self.differences[:3]:
            text += f"\n    第{page}页第{line}行 page {page} line {line}: 我们 ours «{ours}» / LibreOffice «{theirs}»"
        return text


def convert_with_libreoffice(docx_files: list[Path], out_dir: Path) -> None:
    """All files in one soffice call with a private profile (two soffice processes cannot share one)."""
    with tempfile.TemporaryDirectory(prefix="docgen-lo-") as profile:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
             "--outdir", str(out_dir), *map(str, docx_files)],
            check=True, capture_output=True, timeout=600, env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"},
        )


def compare(name: str, ours: Path, theirs: Path) -> Comparison:
    a, b = line_texts(read_pdf(ours)), line_texts(read_pdf(theirs))
    result = Comparison(name, len(a), len(b))
    for page_no, (page_a, page_b) in enumerate(zip(a, b, strict=False), start=1):
        for line_no in range(max(len(page_a), len(page_b))):
            x = page_a[line_no] if line_no < len(page_a) else ""
            y = page_b[line_no] if line_no < len(page_b) else ""
            result.lines += 1
            if x == y:
                result.identical += 1
            elif x and x[-1] in HANGING and x[:-1] == y:
                result.hung_mark_lost += 1
            else:
                result.differences.append((page_no, line_no + 1, x, y))
    for extra in a[len(b):] + b[len(a):]:
        result.lines += len(extra)
    return result
