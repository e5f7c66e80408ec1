"""批量生成 (batches): many documents, in worker processes, skipping what has not changed.

Takes jobs (a data file, or a template and one CSV row, with the output name
and the values for its placeholders) and builds them; returns one ``Result``
per job in job order. A bad job never stops the others: its error is kept in
its result. Unchanged inputs are skipped by a key kept in
``DIR/.docgen-cache.json``. An interrupt (Ctrl-C, SIGTERM) terminates the
workers and removes their half-written ``.NAME.*.part`` files.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import functools
import gc
import hashlib
import io
import json
import os
import re
import signal
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from docgen import __version__
from docgen.build import build_document, document_style
from docgen.errors import DocgenError
from docgen.fonts import fontset_fingerprint, load_fontset
from docgen.load import load_document_text_with_warnings
from docgen.load.nodes import read_source
from docgen.model import Block, Document, Image
from docgen.output import atomic_write
from docgen.style import STYLES_DIR, Style
from docgen.template import fill, parse_template, render_string, variables

CACHE_NAME = ".docgen-cache.json"
# Characters no file name may hold on Windows or POSIX, and control characters.
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
# ext4 and most file systems allow 255 bytes; leave room for ".docx" and the ".NAME.xxxxxxxx.part" temp name.
_MAX_NAME_BYTES = 200


@dataclass(frozen=True)
class Job:
    """One document to build."""

    source: Path  # the data file, or the template of --each
    stem: str  # the output name without suffix
    values: Mapping[str, str] = field(default_factory=dict)  # --vars, the CSV row, --set
    rows: Path | None = None  # the CSV file of --each
    row: int | None = None  # 1-based data row (the header not counted)
    line: int | None = None  # the CSV line the row starts on
    error: str | None = None  # known bad before building: a bad row, a duplicate name

    @property
    def label(self) -> str:
        """How messages name the row: ``rows.csv:4 第 3 行 (row 3)``; empty for a plain data file."""
        return f"{self.rows}:{self.line} 第 {self.row} 行 (row {self.row})" if self.row is not None else ""

    @property
    def name(self) -> str:
        """The job as the user knows it: the CSV row, or the data file."""
        return self.label or str(self.source)


@dataclass(frozen=True)
class Settings:
    out_dir: Path
    formats: tuple[str, ...]
    style_name: str | None = None
    fonts: Mapping[str, str] = field(default_factory=dict)
    force: bool = False


@dataclass
class Result:
    """What happened to one job; also a record of the --report file."""

    source: str
    row: int | None
    stem: str
    status: str  # ok, skipped, failed
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    line: int | None = None  # the data file's line of the error
    seconds: float = 0.0
    pages: int = 0
    rows: str | None = None
    key: str | None = None  # the inputs' hash, for the cache
    detail: str | None = None  # a traceback, for an internal error only

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        del out["key"], out["detail"]
        out["seconds"] = round(self.seconds, 3)
        return out


# ---------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Row:
    number: int  # 1-based, the header not counted
    line: int  # the CSV line it starts on
    values: dict[str, str]
    error: str | None = None


def read_rows(path: Path) -> list[Row]:
    """The data rows of a CSV file (UTF-8, with or without the BOM Excel writes), cells stripped.

    Blank rows are skipped and columns with an empty heading ignored (Excel
    leaves both behind). A row with missing or extra cells carries an error:
    it fails alone, the other rows are built.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocgenError(f"无法读取表格文件 {path}：{exc.strerror} (cannot read the CSV file)") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocgenError(
            f"表格文件 {path} 不是 UTF-8 编码；在 Excel 中请另存为“CSV UTF-8（逗号分隔）” "
            "(the CSV file is not UTF-8; in Excel, save as 'CSV UTF-8')"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise DocgenError(f"表格文件 {path} 没有表头行 (the CSV file has no header row)")
        named = [name for name in header if name]
        duplicate = next((name for i, name in enumerate(named) if name in named[:i]), None)
        if duplicate:
            raise DocgenError(f"{path}:1: 表头中列名 “{duplicate}” 重复 (duplicate column name)")
        rows: list[Row] = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            rows.append(_row(len(rows) + 1, line, header, [cell.strip() for cell in cells]))
    except csv.Error as exc:
        raise DocgenError(f"{path}:{reader.line_num}: 表格文件格式有误：{exc} (malformed CSV)") from None
    return rows


def _row(number: int, line: int, header: list[str], cells: list[str]) -> Row:
    values = {name: cell for name, cell in zip(header, cells, strict=False) if name}
    error = None
    if len(cells) < len(header):
        missing = "、".join(name for name in header[len(cells) :] if name)
        error = f"这一行只有 {len(cells)} 列，缺少 {missing} (row has {len(cells)} cells, header has {len(header)})"
    elif any(cells[len(header) :]):
        error = f"这一行有 {len(cells)} 列，多于表头的 {len(header)} 列 (row has more cells than the header)"
    return Row(number, line, values, error)


def safe_stem(name: str) -> str:
    """``name`` as a file name: no path separators or characters Windows refuses, not hidden, not too long."""
    stem = re.sub(r"\s+", " ", _UNSAFE_NAME.sub("_", name)).strip(" .")
    while len(stem.encode()) > _MAX_NAME_BYTES:
        stem = stem[:-1].rstrip(" .")
    if stem.split(".")[0].upper() in _RESERVED_NAMES:
        stem += "_"
    return stem


def row_jobs(
    template: Path, rows_path: Path, name: str | None, given: Mapping[str, str], forced: Mapping[str, str]
) -> list[Job]:
    """One job per CSV row: the row's columns over ``given`` (--vars), under ``forced`` (--set).

    The output name is ``name`` rendered like the data (default ``STEM-ROW``);
    a row whose name cannot be made carries the error and fails alone.
    """
    text = read_source(template)
    parsed = parse_template(text, template)  # a YAML error in the template stops the batch here
    jobs = []
    for row in read_rows(rows_path):
        values = {**given, **row.values, **forced}
        job = Job(template, f"{template.stem}-{row.number}", values, rows_path, row.number, row.line, row.error)
        if job.error is None and name is not None:
            try:
                stem = safe_stem(render_string(name, variables(parsed, values), "--name"))
            except DocgenError as exc:
                job = replace(job, error=str(exc))
            else:
                job = replace(
                    job, stem=stem, error=None if stem else "输出文件名为空 (--name gives an empty file name)"
                )
        jobs.append(job)
    return jobs


def refuse_duplicates(jobs: list[Job]) -> list[Job]:
    """Jobs that would write the same file all fail, each naming the others (case-insensitive file systems too)."""
    groups: dict[str, list[int]] = {}
    for i, job in enumerate(jobs):
        if job.error is None:
            groups.setdefault(job.stem.casefold(), []).append(i)
    out = list(jobs)
    for indices in groups.values():
        if len(indices) < 2:
            continue
        for i in indices:
            others = "；".join(jobs[j].name for j in indices if j != i)
            out[i] = replace(jobs[i], error=f"输出文件名 “{jobs[i].stem}” 与 {others} 重复 (duplicate output name)")
    return out


# ---------------------------------------------------------------- cache


def read_cache(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Output stem → {key, outputs, pages, warnings}; a missing or damaged cache is an empty one."""
    try:
        data = json.loads((out_dir / CACHE_NAME).read_text(encoding="utf-8"))
        entries = data["documents"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {stem: entry for stem, entry in entries.items() if isinstance(entry, dict)}


def write_cache(out_dir: Path, entries: Mapping[str, Mapping[str, Any]]) -> None:
    data = {"docgen": __version__, "documents": dict(sorted(entries.items()))}
    atomic_write(out_dir / CACHE_NAME, json.dumps(data, ensure_ascii=False, indent=1).encode())


def update_cache(entries: dict[str, dict[str, Any]], results: Sequence[Result]) -> bool:
    """Record the built and skipped documents, forget the failed; whether anything changed."""
    before = json.dumps(entries, sort_keys=True)
    for result in results:
        if result.status == "failed":
            entries.pop(result.stem, None)
        elif result.key:
            names = [Path(p).name for p in result.outputs]
            entries[result.stem] = {
                "key": result.key,
                "outputs": names,
                "pages": result.pages,
                "warnings": result.warnings,
            }
    return json.dumps(entries, sort_keys=True) != before


def input_key(text: str, job: Job, doc: Document, style: Style, settings: Settings) -> str:
    """sha256 over everything that decides the output bytes.

    The filled data text (the data file or template and the row's values),
    the loaded model (it holds the CSV tables' content), the images and seals,
    the style files, the fonts, docgen's version, the formats and
    SOURCE_DATE_EPOCH (the .docx dates come from it).
    """
    h = hashlib.sha256()

    def part(label: str, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        h.update(f"{label}\0{len(raw)}\0".encode() + raw)

    part("docgen", __version__)
    part("formats", ",".join(sorted(settings.formats)))
    part("epoch", os.environ.get("SOURCE_DATE_EPOCH", ""))
    part("text", text)
    part("values", json.dumps(dict(job.values), sort_keys=True, ensure_ascii=False))
    part("model", repr(doc))
    for path in _referenced_files(doc):
        part(f"file {path}", path.read_bytes())
    for path in _style_files(style.source):
        part(f"style {path}", path.read_bytes())
    part("fonts", fontset_fingerprint(load_fontset(settings.fonts)))
    return h.hexdigest()


def _referenced_files(doc: Document) -> list[Path]:
    blocks: list[Block] = [*doc.body, *(b for a in doc.attachments for b in a.body)]
    return [*(b.path for b in blocks if isinstance(b, Image)), *doc.signature.seals]


def _style_files(path: Path) -> list[Path]:
    """A style file and the files it ``extends``, as ``docgen.style`` resolves them."""
    stat = path.stat()
    return _style_chain(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _style_chain(path: Path, mtime_ns: int, size: int) -> list[Path]:
    # Cached on the file's time and size: parsing the style file again for every row would cost more than the hash.
    chain: list[Path] = []
    while path not in chain:
        chain.append(path)
        parent = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("extends")
        if not parent:
            break
        candidate = Path(str(parent))
        if candidate.suffix in (".yaml", ".yml"):
            path = candidate if candidate.is_absolute() else path.parent / candidate
        else:
            path = STYLES_DIR / f"{parent}.yaml"
    return chain


# ---------------------------------------------------------------- running


def run_job(job: Job, settings: Settings, cached: Mapping[str, Any] | None) -> Result:
    """Build one job, or skip it when its key matches ``cached`` and its outputs exist."""
    started = time.perf_counter()
    result = Result(str(job.source), job.row, job.stem, "failed", rows=str(job.rows) if job.rows else None)
    try:
        if job.error:
            raise DocgenError(job.error)
        text = fill(read_source(job.source), job.source, job.values)
        doc, warnings = load_document_text_with_warnings(text, job.source)
        style = document_style(doc, settings.style_name)
        result.key = input_key(text, job, doc, style, settings)
        outputs = [settings.out_dir / f"{job.stem}.{fmt}" for fmt in settings.formats]
        if (
            not settings.force
            and cached
            and cached.get("key") == result.key
            and all(path.is_file() for path in outputs)
        ):
            result.status, result.outputs = "skipped", [str(p) for p in outputs]
            result.pages, result.warnings = int(cached.get("pages", 0)), list(cached.get("warnings", []))
        else:
            built = build_document(
                doc, settings.out_dir, job.stem, settings.formats, settings.style_name, settings.fonts
            )
            result.status, result.outputs = "ok", [str(p) for p in built.outputs]
            result.pages, result.warnings = built.pages, [*warnings, *built.warnings]
    except DocgenError as exc:
        result.error, result.line = str(exc), exc.loc.line if exc.loc else None
    except Exception as exc:  # a bug must not stop the batch; it is reported with its traceback
        result.error = f"内部错误，请报告此问题 (internal error): {type(exc).__name__}: {exc}"
        result.detail = traceback.format_exc()
    if result.status == "failed":
        result.key = None
    result.seconds = time.perf_counter() - started
    return result


_settled = False


def _run_job_and_settle(job: Job, settings: Settings, cached: Mapping[str, Any] | None) -> Result:
    """``run_job``; after a process's first job, its long-lived objects (fonts, the word list
    for breaking titles, glyph tables) leave the garbage collector's sight: every later
    collection would walk them again, about a tenth of a batch document's time."""
    global _settled
    result = run_job(job, settings, cached)
    if not _settled:
        _settled = True
        gc.collect()
        gc.freeze()
    return result


def _init_worker(fonts: Mapping[str, str]) -> None:
    """Each worker: leave Ctrl-C to the parent (it stops the batch) and load the fonts once.

    ``load_fontset`` is cached per process; after a fork this is a cache hit
    (the parent loaded them), after a spawn it loads them here, once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(DocgenError):  # every job of this worker then reports the font problem itself
        load_fontset(fonts)


def run_batch(
    jobs: Sequence[Job],
    settings: Settings,
    workers: int,
    cache: Mapping[str, Mapping[str, Any]],
    on_result: Callable[[Job, Result], None],
) -> list[Result]:
    """Run ``jobs`` on ``workers`` processes (in this process for one); results in job order.

    ``on_result`` sees each result as it arrives. On KeyboardInterrupt the
    workers are terminated and their partial files removed before it propagates.
    """
    results: dict[int, Result] = {}
    try:
        if workers <= 1 or len(jobs) <= 1:
            for i, job in enumerate(jobs):
                results[i] = _run_job_and_settle(job, settings, cache.get(job.stem))
                on_result(job, results[i])
        else:
            _run_pool(jobs, settings, workers, cache, results, on_result)
    finally:
        # Also after an error: a worker killed mid-write leaves its temp file behind.
        remove_partial_files(settings.out_dir, jobs, settings.formats)
    return [results[i] for i in range(len(jobs))]


def _run_pool(
    jobs: Sequence[Job],
    settings: Settings,
    workers: int,
    cache: Mapping[str, Mapping[str, Any]],
    results: dict[int, Result],
    on_result: Callable[[Job, Result], None],
) -> None:
    executor = cf.ProcessPoolExecutor(
        min(workers, len(jobs)), initializer=_init_worker, initargs=(dict(settings.fonts),)
    )
    try:
        futures = {
            executor.submit(_run_job_and_settle, job, settings, cache.get(job.stem)): i for i, job in enumerate(jobs)
        }
        for future in cf.as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except cf.process.BrokenProcessPool:
                job = jobs[i]
                results[i] = Result(
                    str(job.source),
                    job.row,
                    job.stem,
                    "failed",
                    rows=str(job.rows) if job.rows else None,
                    error="工作进程意外退出（内存不足？）(a worker process died; out of memory?)",
                )
            on_result(jobs[i], results[i])
    except BaseException:
        # shutdown() cannot stop running workers; terminate them (the executor keeps them in _processes).
        processes = list((executor._processes or {}).values())
        for process in processes:
            process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join()
        raise
    executor.shutdown()


def remove_partial_files(out_dir: Path, jobs: Sequence[Job], formats: Sequence[str]) -> None:
    """Delete the ``.NAME.*.part`` temp files of these jobs' outputs (``atomic_write`` names them so)."""
    if not out_dir.is_dir():
        return
    names = {f"{job.stem}.{fmt}" for job in jobs for fmt in formats}
    for entry in out_dir.iterdir():
        name = entry.name
        if name.startswith(".") and name.endswith(".part") and name[1 : -len(".part")].rsplit(".", 1)[0] in names:
            entry.unlink(missing_ok=True)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
