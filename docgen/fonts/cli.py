"""``docgen fonts``: show which file serves each role; ``install``; ``check FILE``.

docgen/cli.py adds the ``fonts`` group to the main command; run alone with
``python -c "from docgen.fonts.cli import fonts; fonts()"``.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from docgen.errors import FontError
from docgen.fonts.resolve import ROLE_ZH, load_fontset, parse_font_options

__all__ = ["fonts", "parse_font_options"]

FONT_OPTION_HELP = (
    "为某一字体角色指定字体文件，可重复，如 仿宋=/path/simfang.ttf 或 小标宋=/x.ttc#2 (font file for a role)"
)


def _fail(message: str, code: int = FontError.exit_code) -> NoReturn:
    click.echo(f"错误 (error): {message}", err=True)
    sys.exit(code)


def _width(text: str) -> int:
    # Hanzi take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _guard(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except FontError as exc:
        _fail(str(exc))


@click.group("fonts", invoke_without_command=True)
@click.option("--font", "font_options", multiple=True, metavar="ROLE=PATH", help=FONT_OPTION_HELP)
@click.pass_context
def fonts(ctx: click.Context, font_options: tuple[str, ...]) -> None:
    """字体：列出每个字体角色使用的字体文件（无子命令时）。

    Fonts: without a subcommand, show the file that serves each role.
    """
    overrides = _guard(lambda: parse_font_options(font_options))
    parent = ctx.obj if isinstance(ctx.obj, dict) else {}
    merged = {**parent.get("font_overrides", {}), **overrides}
    ctx.ensure_object(dict)["font_overrides"] = merged
    if ctx.invoked_subcommand is None:
        _show(merged)


def _show(overrides: dict[str, str]) -> None:
    fs = _guard(lambda: load_fontset(overrides))
    header = ["角色 role", "字体 family", "来源 source", "文件 file", "缺 GB2312 汉字 missing"]
    rows = [header]
    unresolved = []
    described = fs.describe()
    for row in described:
        role = f"{row['role_zh']} {row['role']}"
        if not row["ok"]:
            status = {"latin": "未配置 (none)", "fallback": "未安装 (not installed)"}.get(
                row["role"], "无可用字体 (none)"
            )
            rows.append([role, "—", "—", "—", status])
            if row["required"]:
                unresolved.append(row)
            continue
        index = f"#{row['index']}" if row["index"] else ""
        if row["missing_gb2312"] is None:
            missing = "—"
        elif row["missing_gb2312"] == 0:
            missing = "0"
        else:
            missing = f"{row['missing_gb2312']}：{row['missing_sample']}…"
        rows.append([role, row["family"], row["source_zh"], f"{row['file']}{index}", missing])
    click.echo(_table(rows))
    for row in described:
        if row["note"]:
            click.echo(f"注 (note) {row['role_zh']}: {row['note']}")
    if fs.fallback is None:
        click.echo("注意：未安装后备字体，缺字将无法显示；运行 docgen fonts install (no fallback font installed)")
    if unresolved:
        names = "、".join(r["role_zh"] for r in unresolved)
        zh = unresolved[0]["role_zh"]
        _fail(
            f"{names} 没有可用字体 (no font for these roles)。请运行 docgen fonts install 安装免费字体集，"
            f"或用 --font {zh}=/path/file.ttf 指定字体文件，也可写入 ~/.config/docgen/fonts.yaml\n"
            f"(run `docgen fonts install`, or pass --font {zh}=/path/file.ttf)"
        )


@fonts.command("install")
@click.option("--force", is_flag=True, help="即使已安装也重新生成 (rebuild even if in place)")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="从此目录中的 .deb 或字体文件安装，不联网 (use .deb or font files from this directory)",
)
def install_cmd(force: bool, from_dir: Path | None) -> None:
    """下载并安装免费字体集（仿宋、黑体、楷体、宋体、小标宋、后备字体）。

    Fetch, convert and install the free font set (one time, about a minute).
    """
    from docgen.fonts.install import install
    from docgen.fonts.resolve import clear_cache

    _guard(lambda: install(force=force, from_dir=from_dir, echo=click.echo))
    clear_cache()


@fonts.command("check")
@click.argument("file", metavar="FILE[.ttf|.otf|.ttc#N]")
def check_cmd(file: str) -> None:
    """检查一个字体文件能否用于 PDF：授权 (fsType)、轮廓、GB2312 覆盖。

    Check a font file: embedding permission, outlines, GB2312 coverage.
    """
    from docgen.fonts.convert import check_embeddable, gb2312_hanzi, inspect_font, split_index

    path, index = split_index(file)
    info = _guard(lambda: inspect_font(path, index or 0))
    hanzi = sorted(gb2312_hanzi(), key=lambda c: c.encode("gb2312"))
    lacking = [c for c in hanzi if ord(c) not in info.codepoints]
    outline = (
        "TrueType (glyf)"
        if info.outline == "glyf"
        else f"{info.outline.strip()}：首次使用时转换为 TrueType (converted once)"
    )
    rows = [
        ["项目 item", "结果 result"],
        ["字体 family", f"{info.family} {info.style}".strip()],
        ["字面 face", f"{info.index + 1}/{info.faces}"],
        ["轮廓 outlines", outline],
        [
            "嵌入 fsType",
            f"0x{info.fs_type:04X} " + ("允许 (embeddable)" if not info.embedding_problem else "禁止 (forbidden)"),
        ],
        [
            "GB2312 汉字",
            f"{len(hanzi) - len(lacking)}/{len(hanzi)}" + (f"，缺 {''.join(lacking[:12])}…" if lacking else ""),
        ],
    ]
    click.echo(_table(rows))
    _guard(lambda: check_embeddable(info))
    roles = "、".join(ROLE_ZH[r] for r in ("fangsong", "heiti", "kaiti", "songti", "xiaobiaosong"))
    click.echo(f"可用 (usable): docgen build … --font 角色=路径（角色 roles: {roles}）")
