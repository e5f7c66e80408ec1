"""Batch builds (issue 5): templates, CSV rows, workers, the cache, interrupts, reproducible bytes.

CliRunner (in this process, ``-j 1``) where it can; a real process where one is
needed: worker processes (``-j 2``) and signals.
"""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import docx
import pdfplumber
import pytest
from click.testing import CliRunner, Result

from docgen.batch import read_rows, safe_stem
from docgen.cli import main
from docgen.errors import DocgenError
from docgen.load import load_document_text
from docgen.pdftext import read_pdf
from docgen.template import fill

ROOT = Path(__file__).resolve().parent.parent
YEARLY = ROOT / "examples" / "yearly" / "annual-report.yaml"
COUNTIES = ROOT / "examples" / "yearly" / "counties.csv"

# A short template: one page, so the tests stay fast.
TEMPLATE = """\
vars:
  county: 青山县
  year: "2023"
  date: "2024-01-05"
  title: "{{ county }}关于{{ year }}年度考核工作的通知"
header:
  issuer_mark: "{{ county }}人民政府文件"
  doc_number: "X政发〔{{ year }}〕5号"
title: "{{ title }}"
recipients: 各乡镇人民政府
body:
  - "{{ county }}{{ year }}年度考核工作现已开始。"
  - "{% if year == '2025' %}{{ target }}{% else %}请按时报送材料。{% endif %}"
signature:
  issuer: "{{ county }}人民政府"
  date: "{{ date }}"
"""


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["build", *map(str, args)], env=env)


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "docgen", "build", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "notice.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[str], bom: bool = True) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + "\r\n".join(rows).encode() + b"\r\n")
    return path


def test_parallel_output_equals_serial_byte_for_byte(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_bytes(b"".join(COUNTIES.read_bytes().splitlines(keepends=True)[:7]))  # the header and 6 rows
    name = "{{ year }}-{{ county }}"
    serial = invoke(YEARLY, "--each", rows, "--name", name, "-o", tmp_path / "serial", "-j", "1")
    assert serial.exit_code == 0, serial.output
    parallel = run(YEARLY, "--each", rows, "--name", name, "-o", tmp_path / "parallel", "-j", "2", cwd=tmp_path)
    assert parallel.returncode == 0, parallel.stderr
    built = files(tmp_path / "serial")
    assert len(built) == 12 and "2022-青山县.pdf" in built
    assert files(tmp_path / "parallel") == built


def test_source_date_epoch_sets_the_time_and_equal_runs_are_identical(tmp_path: Path, template: Path) -> None:
    outs = {}
    for run_name, epoch in (("a", "1700000000"), ("b", "1700000000"), ("c", "1600000000")):
        result = invoke(template, "-o", tmp_path / run_name, "-j", "1", env={"SOURCE_DATE_EPOCH": epoch})
        assert result.exit_code == 0, result.output
        outs[run_name] = files(tmp_path / run_name)
    assert outs["a"] == outs["b"]
    assert outs["a"]["notice.docx"] != outs["c"]["notice.docx"]
    assert outs["a"]["notice.pdf"] != outs["c"]["notice.pdf"]
    core = zipfile.ZipFile(tmp_path / "a" / "notice.docx").read("docProps/core.xml").decode()
    assert "2023-11-14T22:13:20Z" in core  # 1700000000
    assert b"/CreationDate (D:20231114221320+00'00')" in outs["a"]["notice.pdf"]  # reportlab reads it too


def test_bad_rows_fail_alone_and_are_reported(tmp_path: Path, template: Path) -> None:
    rows = write_csv(tmp_path / "rows.csv", [
        "county,year,date",
        "青山县,2023,2024-01-05",
        "白水县,2025,2026-01-05",  # the template needs {{ target }} for 2025
        "红岭区,2023,2023-02-30",  # no such day
        "东湖区,2024,2025-01-10",
    ])
    report = tmp_path / "report.json"
    result = invoke(template, "--each", rows, "--name", "{{ county }}", "-o", tmp_path / "out", "-j", "1",
                    "--report", report)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert sorted(files(tmp_path / "out")) == ["东湖区.docx", "东湖区.pdf", "青山县.docx", "青山县.pdf"]
    assert "rows.csv:3 第 2 行 (row 2)" in result.output and "“target”" in result.output
    assert "rows.csv:4 第 3 行 (row 3)" in result.output and "notice.yaml:16:9" in result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["summary"] == {"ok": 2, "skipped": 0, "failed": 2, "not_built": 0}
    docs = {d["row"]: d for d in data["documents"]}
    assert [docs[n]["status"] for n in (1, 2, 3, 4)] == ["ok", "failed", "failed", "ok"]
    assert docs[2]["line"] == 13 and "undefined variable 'target'" in docs[2]["error"]
    assert docs[3]["line"] == 16 and "成文日期" in docs[3]["error"]
    assert docs[1]["pages"] == 1 and docs[1]["outputs"][0].endswith("青山县.docx") and docs[1]["seconds"] > 0
    assert docs[1]["source"] == str(template) and docs[1]["rows"] == str(rows)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_batch_leaves_nothing_partial(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "docgen", "build", str(YEARLY), "--each", str(COUNTIES), "-o", str(out), "-j", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob("*.pdf")) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not list(out.glob(".*.part"))
    built = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert built and len(built) < 60
    for path in built:
        if path.suffix == ".docx":
            assert docx.Document(str(path)).paragraphs
        else:
            with pdfplumber.open(path) as pdf:
                assert len(pdf.pages) == 3


def test_unchanged_inputs_are_skipped(tmp_path: Path, template: Path) -> None:
    out = tmp_path / "out"

    def build(*extra: str) -> str:
        result = invoke(template, "-o", out, "-j", "1", *extra)
        assert result.exit_code == 0, result.output
        return result.output

    assert "生成 1，未改变跳过 0" in build()
    assert "生成 0，未改变跳过 1" in build()
    assert "(1 documents: 0 built, 1 skipped as unchanged" in build()
    assert "生成 1" in build("--force")
    assert "生成 1" in build("--set", "county=白水县")  # other values, another document
    assert "未改变跳过 1" in build("--set", "county=白水县")
    template.write_text(TEMPLATE.replace("请按时报送材料。", "请于月底前报送材料。"), encoding="utf-8")
    assert "生成 1" in build("--set", "county=白水县")
    (out / "notice.pdf").unlink()
    assert "生成 1" in build("--set", "county=白水县")
    cache = json.loads((out / ".docgen-cache.json").read_text(encoding="utf-8"))
    assert cache["documents"]["notice"]["outputs"] == ["notice.docx", "notice.pdf"]


@pytest.mark.parametrize("expression", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{{ 'x' * 100000000 }}",
])
def test_sandbox_refuses_with_a_clean_error(tmp_path: Path, template: Path, expression: str) -> None:
    template.write_text(TEMPLATE.replace("请按时报送材料。", expression), encoding="utf-8")
    result = invoke(template, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "notice.yaml:13:" in result.output
    assert any(word in result.output for word in ("安全限制", "不能读取其他文件", "未定义的变量"))
    assert not (tmp_path / "out").exists() or not files(tmp_path / "out")


def test_undefined_variable_is_named_with_its_place(tmp_path: Path, template: Path) -> None:
    result = invoke(template, "-o", tmp_path / "out", "-j", "1", "--set", "year=2025")
    assert result.exit_code == 2
    assert "notice.yaml:13:29: 未定义的变量 “target”" in result.output


def test_set_overrides_vars_file_overrides_the_file(tmp_path: Path, template: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("county: 白水县\nyear: 2024\n", encoding="utf-8")

    def title(*extra: str) -> str:
        out = tmp_path / "out"
        result = invoke(template, "-o", out, "-j", "1", "--format", "docx", *extra)
        assert result.exit_code == 0, result.output
        return docx.Document(str(out / "notice.docx")).core_properties.title

    assert title() == "青山县关于2023年度考核工作的通知"
    assert title("--vars", values) == "白水县关于2024年度考核工作的通知"
    assert title("--vars", values, "--set", "county=红岭区") == "红岭区关于2024年度考核工作的通知"
    assert title("--set", "title=另一个标题") == "另一个标题"


def test_values_are_text_never_yaml(tmp_path: Path, template: Path) -> None:
    for value in ("A: B #1", "**年度", "- 列表", "&anchor *alias", '"引号" \\ 反斜杠', "{{ year }}", "[1, 2]"):
        doc = load_document_text(fill(TEMPLATE, template, {"county": value}), template)
        assert doc.signature.issuers == [f"{value}人民政府"]
        assert doc.body[0].text == f"{value}2023年度考核工作现已开始。"


def test_a_pasted_body_keeps_its_lines(template: Path) -> None:
    text = "title: 通知\nbody: |\n  {{ a }}第一段。\n  一、标题\n  第二段{{ b }}。\nsignature: {issuer: 某县, date: 2024-01-01}\n"
    doc = load_document_text(fill(text, template, {"a": "甲: #", "b": "乙"}), template)
    assert [(b.text, b.loc.line) for b in doc.body] == [("甲: #第一段。", 3), ("标题", 4), ("第二段乙。", 5)]


def test_csv_with_and_without_bom(tmp_path: Path) -> None:
    lines = ["year,county ,,", "2023,青山县,,", ",,,", "2024, 白水县,,"]
    for bom in (True, False):
        rows = read_rows(write_csv(tmp_path / "rows.csv", lines, bom))
        assert [(r.number, r.line, r.values) for r in rows] == [
            (1, 2, {"year": "2023", "county": "青山县"}),
            (2, 4, {"year": "2024", "county": "白水县"}),
        ]
    (tmp_path / "gbk.csv").write_bytes("year,county\n2023,青山县\n".encode("gbk"))
    with pytest.raises(DocgenError, match="CSV UTF-8"):
        read_rows(tmp_path / "gbk.csv")


def test_duplicate_and_unsafe_names(tmp_path: Path, template: Path) -> None:
    rows = write_csv(tmp_path / "rows.csv", ["county,year", "青山县,2023", "白水县,2023", "红岭区,2024"])
    result = invoke(template, "--each", rows, "--name", "{{ year }}/年度", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 2
    assert sorted(files(tmp_path / "out")) == ["2024_年度.docx", "2024_年度.pdf"]
    assert "重复 (duplicate output name)" in result.output and "rows.csv:3 第 2 行 (row 2)" in result.output
    assert safe_stem(' ..a:b*c?"d<e>f|g\\h ') == "a_b_c_d_e_f_g_h"
    assert safe_stem("CON") == "CON_"


def test_the_yearly_example_builds_alone_from_its_defaults(tmp_path: Path) -> None:
    shutil.copy(YEARLY, tmp_path / "annual-report.yaml")
    result = invoke(tmp_path / "annual-report.yaml", "-o", tmp_path / "out", "-j", "1", "--format", "pdf")
    assert result.exit_code == 0, result.output
    with pdfplumber.open(tmp_path / "out" / "annual-report.pdf") as pdf:
        assert len(pdf.pages) == 3
        assert "青山县人民政府关于" in pdf.pages[0].extract_text()


def test_the_yearly_example_builds_every_row(tmp_path: Path) -> None:
    """examples/yearly: every county and year of the CSV, each report filled from its own row."""
    with COUNTIES.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 30 and len({r["year"] for r in rows}) >= 3
    result = run(YEARLY, "--each", COUNTIES, "--name", "{{ year }}-{{ county }}", "-o", tmp_path, "-j", "2",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for row in rows:
        pages = read_pdf(tmp_path / f"{row['year']}-{row['county']}.pdf")
        assert len(pages) == 3
        first = [line.text for line in pages[0].lines]
        assert f"{row['county']}人民政府文件" in first
        number = f"{row['abbr']}政发〔{int(row['year']) + 1}〕{row['number']}号"  # 上行文: with 签发人 after it
        assert f"{number}签发人：{row['leader']}" in first
        text = "".join(line.text for page in pages for line in page.lines)
        assert f"地区生产总值{row['gdp']}亿元" in text and f"{row['year']}年，{row['county']}人民政府" in text
