"""命令行 (command line): ``docgen build`` and ``docgen fonts``.

click gives us subcommands, --help and option parsing with clear errors; we
only add Chinese messages and the rule that a user's mistake never shows a
traceback.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click

from docgen import __version__
from docgen.batch import (
    Job,
    Result,
    Settings,
    default_workers,
    read_cache,
    refuse_duplicates,
    row_jobs,
    run_batch,
    update_cache,
    write_cache,
)
from docgen.build import FORMATS
from docgen.errors import DocgenError
from docgen.fonts import load_fontset
from docgen.fonts.cli import fonts
from docgen.fonts.resolve import parse_font_options
from docgen.output import atomic_write
from docgen.template import read_vars_file

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def _data_files(inputs: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            files.append(path)
    return files


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docgen")
def main() -> None:
    """docgen：把 YAML 数据文件排成符合 GB/T 9704-2012 的公文 (.docx 和 PDF)。

    docgen turns YAML data files into GB/T 9704-2012 official documents.
    """


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="FILE_OR_DIR...")
@click.option("-o", "--output", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="输出目录 (output directory)")
@click.option("--format", "formats", default="docx,pdf", show_default=True,
              help="输出格式，逗号分隔 (comma-separated: docx, pdf)")
@click.option("--style", "style_name", default=None,
              help="样式名或样式文件路径，覆盖数据文件中的 style (style name or .yaml path)")
@click.option("--font", "font_options", multiple=True, metavar="ROLE=PATH",
              help="为某一字体角色指定字体文件，如 仿宋=/path/simfang.ttf (font file for a role)")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="并行的工作进程数，默认为 CPU 核数 (worker processes; default: the number of cores)")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="给占位符 {{ NAME }} 赋值，优先于 --vars、--each 和文件中的 vars (a placeholder's value; overrides all others)")
@click.option("--vars", "vars_file", type=click.Path(dir_okay=False), metavar="FILE.yaml",
              help="变量文件（名称: 值），优先于文件中的 vars (a YAML mapping of values; overrides the file's vars)")
@click.option("--each", "rows_file", type=click.Path(dir_okay=False), metavar="ROWS.csv",
              help="每个表格行生成一份公文，列名即变量名 (one document per CSV row; the columns are the variables)")
@click.option("--name", "name_template", metavar="TEMPLATE",
              help='与 --each 同用的输出文件名，如 "{{ year }}-{{ county }}"，默认 模板名-行号 (output name for --each)')
@click.option("--report", "report_file", type=click.Path(dir_okay=False), metavar="FILE.json",
              help="把每份公文的结果写成 JSON (write per-document results as JSON)")
@click.option("--force", is_flag=True, help="全部重新生成，不跳过未改变的公文 (rebuild even unchanged documents)")
def build(inputs: tuple[str, ...], out_dir: str, formats: str, style_name: str | None,
          font_options: tuple[str, ...], workers: int | None, assignments: tuple[str, ...], vars_file: str | None,
          rows_file: str | None, name_template: str | None, report_file: str | None, force: bool) -> None:
    """生成公文：每个 FILE.yaml 写出 DIR/FILE.docx 和 DIR/FILE.pdf。

    Build each data file (or every .yaml under a directory) into DIR. With
    --each, build one document per CSV row from one template. Documents whose
    inputs have not changed since the last run into DIR are skipped.
    """
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise click.BadParameter(f"未知格式 {', '.join(unknown)}；可用：docx, pdf (unknown format)", param_hint="--format")
    if name_template is not None and rows_file is None:
        raise click.BadParameter("--name 只能与 --each 一起使用 (--name needs --each)", param_hint="--name")
    if rows_file is not None and (len(inputs) != 1 or Path(inputs[0]).is_dir()):
        raise click.BadParameter("--each 需要且只需要一个模板文件 (--each takes exactly one template file)",
                                 param_hint="FILE_OR_DIR")
    forced = _assignments(assignments)
    started = time.perf_counter()
    try:
        overrides = parse_font_options(font_options)
        given = read_vars_file(Path(vars_file)) if vars_file else {}
        if rows_file is not None:
            jobs = row_jobs(Path(inputs[0]), Path(rows_file), name_template, given, forced)
        else:
            jobs = [Job(path, path.stem, {**given, **forced}) for path in _data_files(inputs)]
        load_fontset(overrides)  # a font problem stops the batch here, once, not once per document
    except DocgenError as exc:
        _fail(str(exc))
    jobs = refuse_duplicates(jobs)
    settings = Settings(Path(out_dir), tuple(wanted), style_name, overrides, force)
    cache = read_cache(settings.out_dir)
    progress = _Progress(len(jobs)) if sys.stderr.isatty() and len(jobs) > 1 else None
    done: list[Result] = []

    def on_result(job: Job, result: Result) -> None:
        done.append(result)
        _show(job, result, progress)
        if progress:
            progress.update(done)

    with _sigterm_as_interrupt():  # until the cache and the report are written too
        try:
            results = run_batch(jobs, settings, workers or default_workers(), cache, on_result)
        except KeyboardInterrupt:
            if progress:
                progress.clear()
            _finish(settings, cache, done, len(jobs), report_file, started)
            click.echo(f"已中断：完成 {len(done)} 个，共 {len(jobs)} 个；没有留下不完整的文件 "
                       f"(interrupted: {len(done)} of {len(jobs)} done; no partial file left)", err=True)
            sys.exit(EXIT_INTERRUPTED)
        if progress:
            progress.clear()
        _finish(settings, cache, results, len(jobs), report_file, started)
    failed = [(job, result) for job, result in zip(jobs, results, strict=True) if result.status == "failed"]
    if failed:
        click.echo(f"\n{len(failed)} 个文档失败 ({len(failed)} failed):", err=True)
        for job, result in failed:
            click.echo(f"  {_failure(job, result)}", err=True)
            if result.detail:
                click.echo(result.detail, err=True)
        sys.exit(EXIT_BAD_INPUT)


def _assignments(assignments: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise click.BadParameter(f"应为 名称=值，名称为字母、汉字、数字或下划线，实际为 {item!r} (expected NAME=VALUE)",
                                     param_hint="--set")
        out[name.strip()] = value
    return out


def _show(job: Job, result: Result, progress: _Progress | None) -> None:
    """One line per document; with a progress bar (a terminal), only the warnings and errors."""
    if progress:
        progress.clear()
    for warning in result.warnings if result.status == "ok" else []:
        click.echo(f"警告 (warning): {warning}", err=True)
    if result.status == "failed":
        click.echo(f"错误 (error): {_failure(job, result)}", err=True)
    elif progress is None:
        outputs = ", ".join(result.outputs)
        if result.status == "skipped":
            click.echo(f"{job.name} → {outputs}（未改变，跳过 unchanged, skipped）")
        else:
            click.echo(f"{job.name} → {outputs}（{result.pages} 页，{result.seconds:.2f} 秒）")


def _failure(job: Job, result: Result) -> str:
    """The error, after the row or the file unless the error starts with the file already."""
    error = result.error or ""
    return error if not job.label and error.startswith(str(job.source)) else f"{job.name}: {error}"


def _finish(settings: Settings, cache: dict[str, dict[str, object]], results: list[Result], total: int,
            report_file: str | None, started: float) -> None:
    """Save the cache and the report, and print the summary line (fewer results than jobs: interrupted)."""
    if update_cache(cache, results) and settings.out_dir.is_dir():
        write_cache(settings.out_dir, cache)
    counts = {status: sum(r.status == status for r in results) for status in ("ok", "skipped", "failed")}
    counts["not_built"] = total - len(results)  # left when interrupted
    seconds = time.perf_counter() - started
    if report_file:
        report = {"docgen": __version__, "interrupted": len(results) < total, "seconds": round(seconds, 3),
                  "summary": counts, "documents": [r.record() for r in results]}
        atomic_write(Path(report_file), json.dumps(report, ensure_ascii=False, indent=2).encode())
    zh = f"共 {total} 个文档：生成 {counts['ok']}，未改变跳过 {counts['skipped']}，失败 {counts['failed']}"
    en = f"{total} documents: {counts['ok']} built, {counts['skipped']} skipped as unchanged, {counts['failed']} failed"
    if counts["not_built"]:
        zh, en = f"{zh}，未完成 {counts['not_built']}", f"{en}, {counts['not_built']} not built"
    click.echo(f"{zh}，用时 {seconds:.1f} 秒 ({en}, {seconds:.1f} s)")


class _Progress:
    """A one-line counter on stderr, redrawn in place (only on a terminal: logs stay quiet)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.shown = False

    def update(self, done: list[Result]) -> None:
        failed = sum(r.status == "failed" for r in done)
        width = 30
        filled = width * len(done) // self.total
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {len(done)}/{self.total}  失败 (failed) {failed}")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI timeout, ``kill``) stops a batch as Ctrl-C does: workers ended, no partial file."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fail(message: str) -> NoReturn:
    click.echo(f"错误 (error): {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


main.add_command(fonts)
