"""命令行 (command line): ``docgen build`` and ``docgen fonts``.

click gives us subcommands, --help and option parsing with clear errors; we
only add Chinese messages and the rule that a user's mistake never shows a
traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from docgen import __version__
from docgen.build import FORMATS, build_file
from docgen.errors import DocgenError
from docgen.fonts.cli import fonts
from docgen.fonts.resolve import parse_font_options

EXIT_BAD_INPUT = 2


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
def build(inputs: tuple[str, ...], out_dir: str, formats: str, style_name: str | None,
          font_options: tuple[str, ...]) -> None:
    """生成公文：每个 FILE.yaml 写出 DIR/FILE.docx 和 DIR/FILE.pdf。

    Build each data file (or every .yaml under a directory) into DIR.
    """
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise click.BadParameter(f"未知格式 {', '.join(unknown)}；可用：docx, pdf (unknown format)", param_hint="--format")
    try:
        overrides = parse_font_options(font_options)
    except DocgenError as exc:
        _fail(str(exc))
    failures: list[str] = []
    files = _data_files(inputs)
    for path in files:
        started = time.perf_counter()
        try:
            result = build_file(path, Path(out_dir), wanted, style_name, overrides)
        except DocgenError as exc:
            failures.append(str(exc))
            click.echo(f"错误 (error): {exc}", err=True)
            continue
        for warning in result.warnings:
            click.echo(f"警告 (warning): {warning}", err=True)
        outputs = ", ".join(str(p) for p in result.outputs)
        click.echo(f"{path} → {outputs}（{result.pages} 页，{time.perf_counter() - started:.2f} 秒）")
    if failures:
        click.echo(f"\n{len(failures)} 个文件失败，{len(files) - len(failures)} 个成功 ({len(failures)} failed):", err=True)
        for failure in failures:
            click.echo(f"  {failure}", err=True)
        sys.exit(EXIT_BAD_INPUT)


def _fail(message: str) -> None:
    click.echo(f"错误 (error): {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


main.add_command(fonts)
