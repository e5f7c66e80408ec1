"""docgen 性能基准 (benchmark): a script, not a test; it reports on the machine it runs on.

    python bench/benchmark.py [--count 1000] [--jobs N] [--runs 5] [--lo-docs 20] [--profile]

Measures:
  1. seconds per document as a fresh process (``python -m docgen build data/report-2022.yaml``), median of --runs;
  2. documents per second for --count yearly documents (examples/yearly, about 3 pages each) at -j 1 and -j N;
  3. peak memory (RSS) of the largest process of each run: at -j 1 the one process, at -j N a worker
     (``os.wait4`` reports the maximum over the child and the processes it waited for);
  4. where one document's time goes (fill, load, layout, .docx, PDF), in this process, after a warm-up;
  5. LibreOffice converting the same .docx files to PDF (--lo-docs in one call, and one alone), as a ratio.
Targets (issue 5): ≥ 20 documents/s on 2 cores, ≥ 5× faster per document than LibreOffice, ≤ 300 MB per worker.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "data" / "report-2022.yaml"
YEARLY = ROOT / "examples" / "yearly" / "annual-report.yaml"
COUNTIES = ROOT / "examples" / "yearly" / "counties.csv"


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command and the processes it waited for."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a full pipe would block the child
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            sys.exit(f"failed ({code}): {' '.join(args)}\n{errors.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def docgen(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "docgen", "build", *map(str, args)]


def make_rows(path: Path, count: int) -> None:
    """``count`` rows cycling over the example's rows, each with its own name (year × county × number)."""
    with COUNTIES.open(encoding="utf-8-sig", newline="") as f:
        base = list(csv.DictReader(f))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, [*base[0], "id"])
        writer.writeheader()
        for i in range(count):
            writer.writerow({**base[i % len(base)], "id": str(i)})


def stages(count: int = 20) -> dict[str, float]:
    """Median milliseconds per stage for one yearly document, in this process after a warm-up."""
    from docgen.build import build_timestamp
    from docgen.fonts import load_fontset
    from docgen.layout import layout_document
    from docgen.load import load_document_text_with_warnings
    from docgen.render.docx import render_docx
    from docgen.render.pdf import render_pdf
    from docgen.style import load_style
    from docgen.template import fill

    fonts = load_fontset()
    text = YEARLY.read_text(encoding="utf-8")
    times: dict[str, list[float]] = {name: [] for name in ("fill", "load", "layout", "docx", "pdf")}
    for i in range(count + 1):
        marks = [time.perf_counter()]
        filled = fill(text, YEARLY, {"county": f"测试{i}县", "gdp": str(100 + i)})
        marks.append(time.perf_counter())
        doc, _ = load_document_text_with_warnings(filled, YEARLY)
        style = load_style(doc.style, doc.source.parent)
        marks.append(time.perf_counter())
        layout = layout_document(doc, style, fonts)
        marks.append(time.perf_counter())
        render_docx(layout, doc, style, build_timestamp(doc))
        marks.append(time.perf_counter())
        render_pdf(layout, doc, style)
        marks.append(time.perf_counter())
        if i:  # the first document loads the word list for title breaking (about 1 s)
            for name, start, end in zip(times, marks, marks[1:], strict=False):
                times[name].append((end - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def profile(tmp: Path, count: int = 20) -> None:
    from docgen.batch import Job, Settings, run_job

    settings = Settings(tmp / "profile", ("docx", "pdf"))
    run_job(Job(YEARLY, "warm-up"), settings, None)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(count):
        run_job(Job(YEARLY, f"p{i}", {"county": f"测试{i}县"}), settings, None)
    profiler.disable()
    print(f"\ncProfile, {count} yearly documents in one process (cumulative):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def soffice_convert(files: list[Path], out: Path, profile_dir: Path) -> float:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return float("nan")
    args = [soffice, f"-env:UserInstallation={profile_dir.as_uri()}", "--headless", "--convert-to", "pdf",
            "--outdir", str(out), *map(str, files)]
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="yearly documents to build (1000)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)), help="workers for -j N (cores)")
    parser.add_argument("--runs", type=int, default=5, help="fresh-process runs for the median (5)")
    parser.add_argument("--lo-docs", type=int, default=20, help="documents LibreOffice converts in one call (20)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of 20 documents")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="docgen-bench-"))
    try:
        bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench(args: argparse.Namespace, tmp: Path) -> None:
    env_note = f"Python {sys.version.split()[0]}, {len(os.sched_getaffinity(0))} cores, {os.uname().machine}"
    print(f"docgen benchmark — {env_note}", flush=True)

    fresh = [run(docgen(REPORT, "-o", tmp / f"fresh{i}", "-j", "1"), ROOT)[0] for i in range(args.runs)]
    fresh_s = statistics.median(fresh)

    rows = tmp / "rows.csv"
    make_rows(rows, args.count)
    name = "{{ id }}-{{ year }}-{{ county }}"
    serial_s, serial_mb = run(docgen(YEARLY, "--each", rows, "--name", name, "-o", tmp / "j1", "-j", "1"), ROOT)
    par_s, par_mb = run(
        docgen(YEARLY, "--each", rows, "--name", name, "-o", tmp / "jn", "-j", str(args.jobs)), ROOT
    )
    pages = _pages(next((tmp / "jn").glob("*.pdf")))

    split = stages()
    per_doc_ms = sum(split.values())

    lo_docs = sorted((tmp / "jn").glob("*.docx"))[: args.lo_docs]
    lo_profile = tmp / "lo-profile"
    soffice_convert(lo_docs[:1], tmp / "lo-warm", lo_profile)  # the first start creates the profile
    lo_batch = soffice_convert(lo_docs, tmp / "lo-batch", lo_profile)
    lo_one = soffice_convert(lo_docs[:1], tmp / "lo-one", lo_profile)

    serial_rate, par_rate = args.count / serial_s, args.count / par_s
    lo_per_doc = lo_batch / len(lo_docs)
    rows_out = [
        ("新进程生成一份 (report-2022, 8 页)", "fresh process, one document", f"{fresh_s:.2f} s", ""),
        (f"{args.count} 份年度报告 ({pages} 页) -j 1", f"{args.count} yearly documents -j 1",
         f"{serial_rate:.1f} 份/s docs/s", f"{serial_s:.0f} s"),
        (f"{args.count} 份年度报告 -j {args.jobs}", f"{args.count} yearly documents -j {args.jobs}",
         f"{par_rate:.1f} 份/s docs/s", f"{par_s:.0f} s; 目标 target ≥ 20"),
        ("并行加速比", "parallel speed-up", f"{par_rate / serial_rate:.2f}×", ""),
        ("峰值内存 -j 1（单进程）", "peak RSS -j 1 (one process)", f"{serial_mb:.0f} MB", ""),
        (f"峰值内存 -j {args.jobs}（最大的工作进程）", f"peak RSS per worker -j {args.jobs}", f"{par_mb:.0f} MB",
         "目标 target ≤ 300"),
        ("单份耗时：填充", "per document: fill", f"{split['fill']:.1f} ms", ""),
        ("单份耗时：载入", "per document: load", f"{split['load']:.1f} ms", ""),
        ("单份耗时：排版", "per document: layout", f"{split['layout']:.1f} ms", ""),
        ("单份耗时：写 .docx", "per document: .docx", f"{split['docx']:.1f} ms", ""),
        ("单份耗时：写 PDF", "per document: PDF", f"{split['pdf']:.1f} ms", ""),
        (f"LibreOffice 转换 {len(lo_docs)} 份（一次调用）", f"LibreOffice, {len(lo_docs)} .docx in one call",
         f"{lo_per_doc:.2f} s/份 per doc", f"{lo_batch:.1f} s"),
        ("LibreOffice 转换 1 份（新进程）", "LibreOffice, one .docx alone", f"{lo_one:.2f} s", ""),
        ("每份：LibreOffice ÷ docgen -j 1", "per doc: LibreOffice / docgen -j 1",
         f"{lo_per_doc * serial_rate:.1f}×", "目标 target ≥ 5"),
        ("每份：LibreOffice ÷ docgen 单份耗时", "per doc: LibreOffice / docgen in-process",
         f"{lo_per_doc / (per_doc_ms / 1000):.1f}×", ""),
        ("单份新进程：LibreOffice ÷ docgen", "one doc, fresh process: LibreOffice / docgen",
         f"{lo_one / fresh_s:.1f}×", ""),
    ]
    _table(rows_out)
    if args.profile:
        profile(tmp)


def _pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return next((int(line.split()[-1]) for line in out.splitlines() if line.startswith("Pages:")), 0)


def _table(rows: list[tuple[str, str, str, str]]) -> None:
    def width(text: str) -> int:  # a CJK character takes two columns
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widths = [max(width(row[i]) for row in rows) for i in range(4)]
    print()
    for row in rows:
        print("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
