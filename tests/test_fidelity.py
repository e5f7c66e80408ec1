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


@pytest.mark.parametrize("name", ["report-2022", "notice", "request", "joint-notice", "stress", "annual-report"])
def test_libreoffice_renders_the_same_lines(comparisons: dict[str, Comparison], name: str) -> None:
    c = comparisons[name]
    assert c.pages_ours == c.pages_theirs, c.summary()
    assert c.matching_share >= TARGET, c.summary()


def fidelity_summary() -> list[str]:
    return [c.summary() for c in RESULTS]
