"""Bad input of every kind: a located message, exit code 2, no traceback, no output file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """\
style: red-header
header:
  issuer_mark: XX县人民政府文件
  doc_number: X政发〔2023〕5号
title: 关于测试的通知
recipients: 各乡镇人民政府
body:
  - 正文一段。
signature:
  issuer: XX县人民政府
  date: 2023-01-05
"""

CASES = {
    "yaml_syntax": (GOOD.replace("title: 关于测试的通知", "title: [关于测试的通知"), ":6:", None),
    "unknown_key": (GOOD.replace("title:", "titel:"), ":5:1", "title"),
    "wrong_type": (GOOD.replace("  - 正文一段。", "  - {h1: [a, b]}"), ":8:", "h1"),
    "bad_date": (GOOD.replace("2023-01-05", "2023-13-05"), ":11:9", "date"),
    "missing_image": (GOOD.replace("  - 正文一段。", "  - {image: missing.png}"), ":8:", "missing.png"),
    "control_char": (GOOD.replace("正文一段。", '"正文\\x01一段。"'), ":8:", "U+0001"),
}


def outputs(folder: Path) -> list[str]:
    """The documents written (the batch cache file aside)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docgen", *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_without_traceback_or_output(tmp_path: Path, case: str) -> None:
    text, location, mention = CASES[case]
    data = tmp_path / "doc.yaml"
    data.write_text(text, encoding="utf-8")
    result = run("build", str(data), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"doc.yaml{location}" in result.stderr, result.stderr
    if mention:
        assert mention in result.stderr
    assert not (tmp_path / "out").exists() or not outputs(tmp_path / "out")


def test_batch_goes_on_past_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a-good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b-bad.yaml").write_text(CASES["bad_date"][0], encoding="utf-8")
    result = run("build", str(tmp_path / "a-good.yaml"), str(tmp_path / "b-bad.yaml"), "-o", str(tmp_path / "out"),
                 cwd=tmp_path)
    assert result.returncode == 2
    assert outputs(tmp_path / "out") == ["a-good.docx", "a-good.pdf"]
    assert "b-bad.yaml:11:9" in result.stderr


def test_good_file_builds_both_formats(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(GOOD, encoding="utf-8")
    result = run("build", "doc.yaml", "-o", "out", "--format", "pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert outputs(tmp_path / "out") == ["doc.pdf"]


def test_outputs_get_ordinary_file_permissions(tmp_path: Path) -> None:
    import os
    import stat

    (tmp_path / "doc.yaml").write_text(GOOD, encoding="utf-8")
    old = os.umask(0o022)
    try:
        result = run("build", "doc.yaml", "-o", "out", cwd=tmp_path)
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    for path in (tmp_path / "out").glob("doc.*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_a_format_not_yet_available_is_named_where_it_was_chosen(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(GOOD.replace("style: red-header", "style: letter"), encoding="utf-8")
    result = run("build", "doc.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "doc.yaml:1:8: style: 信函格式（letter）尚未提供" in result.stderr, result.stderr
