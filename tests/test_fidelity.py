"""LibreOffice's rendering of every generated .docx equals our PDF line for line."""

from __future__ import annotations

import pytest
from conftest import Built

from docgen.fidelity import Comparison, compare, convert_with_libreoffice

RESULTS: list[Comparison] = []
TARGET = 0.995


@pytest.fixture(scope="session")
def comparisons(built: dict[str, Built], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Comparison]:
    out = tmp_path_factory.mktemp("libreoffice")
    convert_with_libreoffice([b.docx for b in built.values()], out)
    result = {name: compare(name, b.pdf, out / f"{name}.pdf") for name, b in built.items()}
    RESULTS.extend(result.values())
    return result


@pytest.mark.parametrize("name", ["report-2022", "notice", "request", "joint-notice"])
def test_libreoffice_renders_the_same_lines(comparisons: dict[str, Comparison], name: str) -> None:
    c = comparisons[name]
    assert c.pages_ours == c.pages_theirs, c.summary()
    assert c.matching_share >= TARGET, c.summary()


@pytest.mark.xfail(
    reason="已知差异 known gap: in paragraphs dense with Latin words and digits LibreOffice 7.4 fits one "
    "character more or less than our model on some lines (its Asian/Latin spacing is measured, not known); "
    "it also breaks before 。 after a digit, against 避头尾. Page count is equal.",
    strict=False,
)
def test_stress_document_renders_the_same_lines(comparisons: dict[str, Comparison]) -> None:
    c = comparisons["stress"]
    assert c.pages_ours == c.pages_theirs, c.summary()
    assert c.matching_share >= TARGET, c.summary()


def test_stress_document_has_equal_pages(comparisons: dict[str, Comparison]) -> None:
    c = comparisons["stress"]
    assert c.pages_ours == c.pages_theirs, c.summary()


def fidelity_summary() -> list[str]:
    return [c.summary() for c in RESULTS]
