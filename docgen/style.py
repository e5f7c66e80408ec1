"""Styles are data: ``styles/*.yaml`` to a typed ``Style``.

Takes a style name (``red-header``, ``plain``) or a path to a style file and
returns a ``Style``. A style may ``extends:`` another; mappings are merged key
by key, so a new format is mostly the few numbers that differ.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from docgen.errors import DocgenError

STYLES_DIR = Path(__file__).resolve().parent.parent / "styles"
MM = 72 / 25.4  # pt per mm
# Formats the data contract names that have no style file yet.
NOT_YET = {"letter": "信函格式", "order": "命令格式", "minutes": "纪要格式"}
FONT_ROLES = ("fangsong", "heiti", "kaiti", "songti", "xiaobiaosong", "latin")


@dataclass(frozen=True)
class ElementStyle:
    font: str
    size_pt: float
    docx_style: str | None
    color: str
    line_pitch_pt: float | None
    bold: bool = False


class Section:
    """Attribute access over one mapping of the style file (``style.header.rule_gap_mm``)."""

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self._name = name
        self._values = values

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise DocgenError(f"样式缺少设置 {self._name}.{key} (style setting missing)") from None


@dataclass(frozen=True)
class Style:
    name: str
    source: Path
    page: Section
    grid: Section
    header: Section
    body: Section
    signature: Section
    colophon: Section
    page_number: Section
    colors: dict[str, str]
    docx_fonts: dict[str, str]  # role → family written into the .docx
    elements: dict[str, ElementStyle]

    # Derived geometry, in pt from the page's top-left corner.
    @property
    def page_width(self) -> float:
        return self.page.width_mm * MM

    @property
    def page_height(self) -> float:
        return self.page.height_mm * MM

    @property
    def left(self) -> float:
        return self.page.left_mm * MM

    @property
    def top(self) -> float:
        return self.page.top_mm * MM

    @property
    def text_width(self) -> float:
        return (self.page.width_mm - self.page.left_mm - self.page.right_mm) * MM

    @property
    def text_height(self) -> float:
        return (self.page.height_mm - self.page.top_mm - self.page.bottom_mm) * MM

    @property
    def right(self) -> float:
        return self.left + self.text_width

    @property
    def bottom(self) -> float:
        return self.top + self.text_height

    @property
    def flow_bottom(self) -> float:
        """The lowest point a line may reach: 22 × 28.95 pt below the top.

        With a line grid, LibreOffice shrinks the page body to whole grid lines
        (636.9 of the 637.8 pt) and moves it down by half the rest; nothing may
        go below the last grid line. Word allows more, so this fits both.
        """
        return self.top + self.grid.lines * self.pitch

    @property
    def char_width(self) -> float:
        """One 字 of the body grid (R-GRID-2: 156 mm / 28)."""
        return self.text_width / self.grid.chars

    @property
    def pitch(self) -> float:
        return self.grid.line_pitch_pt

    def element(self, name: str) -> ElementStyle:
        try:
            return self.elements[name]
        except KeyError:
            raise DocgenError(f"样式 {self.name} 没有元素 {name} (style has no element {name})") from None

    def color(self, name: str) -> str:
        return self.colors.get(name, name)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _style_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_absolute() and relative_to is not None:
            candidate = relative_to / candidate
        if candidate.is_file():
            return candidate
        raise DocgenError(f"找不到样式文件 {candidate} (style file not found)")
    builtin = STYLES_DIR / f"{name_or_path}.yaml"
    if builtin.is_file():
        return builtin
    known = ", ".join(sorted(p.stem for p in STYLES_DIR.glob("*.yaml")))
    if name_or_path in NOT_YET:
        raise DocgenError(
            f"{NOT_YET[name_or_path]}（{name_or_path}）尚未提供，可用：{known} (style {name_or_path!r} is not available yet)"
        )
    raise DocgenError(f"未知样式 {name_or_path!r}，可用：{known} (unknown style; expected one of these or a .yaml path)")


def _read_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in seen:
        raise DocgenError(f"样式 {path} 循环继承 (style extends itself)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DocgenError(f"样式文件 {path} 不是有效的 YAML：{exc}") from None
    if not isinstance(raw, dict):
        raise DocgenError(f"样式文件 {path} 应为映射 (mapping expected)")
    parent = raw.pop("extends", None)
    if parent:
        base = _read_raw(_style_path(str(parent), path.parent), (*seen, path))
        raw = _merge(base, raw)
    return raw


@functools.lru_cache(maxsize=32)
def load_style(name_or_path: str, relative_to: Path | None = None) -> Style:
    path = _style_path(name_or_path, relative_to)
    raw = _read_raw(path)
    colors = {str(k): str(v) for k, v in raw.get("colors", {}).items()}
    elements = {}
    for key, spec in raw.get("elements", {}).items():
        color = str(spec.get("color", "black"))
        elements[key] = ElementStyle(
            font=spec["font"],
            size_pt=float(spec["size_pt"]),
            docx_style=spec.get("docx_style"),
            color=colors.get(color, color),
            line_pitch_pt=spec.get("line_pitch_pt"),
            bold=bool(spec.get("bold", False)),
        )
    docx_fonts = {role: spec["docx"] for role, spec in raw.get("fonts", {}).items() if spec}
    return Style(
        name=str(raw.get("name", path.stem)),
        source=path,
        page=Section("page", raw["page"]),
        grid=Section("grid", raw["grid"]),
        header=Section("header", raw.get("header", {})),
        body=Section("body", raw.get("body", {})),
        signature=Section("signature", raw.get("signature", {})),
        colophon=Section("colophon", raw.get("colophon", {})),
        page_number=Section("page_number", raw.get("page_number", {})),
        colors=colors,
        docx_fonts=docx_fonts,
        elements=elements,
    )
