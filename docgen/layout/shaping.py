"""Shaping: runs of text to atoms with their fonts and advances.

Takes ``Run``s and the process's ``FontSet``; returns ``Atom``s. Each
character is drawn by its role's font, or by the fallback font when the role's
font lacks it (rare name characters such as 镕 in GB2312 fonts); a character
no font has is reported, never dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import NamedTuple

from docgen.fonts import FontFace, FontSet
from docgen.layout.boxes import Run
from docgen.layout.linebreak import Atom

OPENING_QUOTES = frozenset("“‘")
# (font set, role) → character → (face, advance per pt): font sets live for the process.
_GLYPHS: dict[tuple[int, str], dict[str, tuple[FontFace, float]]] = {}


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF


def is_latin_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class CharClass(NamedTuple):
    """What the spacing between two characters depends on (see ``Shaper.boundary_space``)."""

    space: bool
    latin_run: bool  # ASCII !–~, or …/—, which the .docx tags as English
    ascii: bool
    cjk: bool
    latin_alnum: bool


@functools.cache  # a few thousand characters occur
def char_class(ch: str) -> CharClass:
    return CharClass(ch.isspace(), "!" <= ch <= "~" or ch in "…—", ch.isascii(), is_cjk(ch), is_latin_alnum(ch))


class Shaper:
    """Shapes runs for one document; collects its missing-glyph warnings."""

    def __init__(
        self, fonts: FontSet, char_spacing: float, autospace: float, boundary: float, latin_role: str | None
    ) -> None:
        self.fonts = fonts
        self.char_spacing = char_spacing
        self.autospace = autospace
        self.boundary = boundary
        self.latin_role = latin_role
        self.warnings: list[str] = []
        self._reported: set[tuple[str, str]] = set()
        # (left class, right class) → (boundary, autospace) at 16 pt: a few dozen pairs occur.
        self._pair_spaces: dict[tuple[CharClass, CharClass], tuple[float, float]] = {}

    def shape(self, runs: Iterable[Run], where: str, spacing: bool = True, report: bool = True) -> list[Atom]:
        """Atoms for ``runs``; with ``report``, a character no font of its role has is a warning naming ``where``."""
        atoms: list[Atom] = []
        latin_role = self.latin_role
        latin_glyphs = self._glyphs(latin_role) if latin_role else None
        for run in runs:
            spacing_pt = self.char_spacing if spacing else 0.0
            size, color, bold = run.size, run.color, run.bold
            run_glyphs = self._glyphs(run.role)
            for ch in run.text:
                if latin_glyphs is not None and ch.isascii() and not ch.isspace():
                    role, glyphs = latin_role, latin_glyphs
                else:
                    role, glyphs = run.role, run_glyphs
                face, width_per_pt = glyphs.get(ch) or self._look_up(glyphs, role, ch)
                if report and face.role != role:
                    self._report(role, ch, face, where)
                atoms.append(Atom(ch, width_per_pt * size, spacing_pt, face.rl_name, size, color, bold))
        classes = [char_class(a.ch) for a in atoms]
        pair_spaces = self._pair_spaces
        for k in range(len(atoms) - 1):
            pair = (classes[k], classes[k + 1])
            spaces = pair_spaces.get(pair)
            if spaces is None:
                spaces = pair_spaces[pair] = self.boundary_space(*pair)
            boundary, autospace = spaces
            if boundary or autospace:
                left = atoms[k]
                # The measured figures are for 16 pt text; the spaces grow with the size.
                left.boundary, left.autospace = boundary * left.size / 16, autospace * left.size / 16
        if atoms and atoms[0].ch in OPENING_QUOTES:
            # A quotation mark opening a paragraph is a script run of its own in
            # LibreOffice and so loses its character spacing (measured).
            atoms[0].boundary += self.boundary * atoms[0].size / 16
        return atoms

    def _glyphs(self, role: str) -> dict[str, tuple[FontFace, float]]:
        return _GLYPHS.setdefault((id(self.fonts), role), {})

    def _look_up(self, glyphs: dict[str, tuple[FontFace, float]], role: str, ch: str) -> tuple[FontFace, float]:
        """The face that draws ``ch`` for ``role`` and its advance per pt of size (looked up once per process)."""
        face = self.fonts.face_for_char(role, ch) or self.fonts.face(role)
        found = glyphs[ch] = (face, face.advance(ch, 1.0))
        return found

    def _report(self, role: str, ch: str, face: FontFace, where: str) -> None:
        if face.has(ch):
            self._warn(ch, where, f"{self.fonts.face(role).family} 缺少此字，改用 {face.family} (drawn from the fallback font)")
        else:
            self._warn(ch, where, "没有任何字体含有此字，打印为空白方框 (no font has this character)")

    def boundary_space(self, left: CharClass, right: CharClass) -> tuple[float, float]:
        """Extra space between Chinese and Latin text, as Word, WPS and LibreOffice add it.

        Measured on LibreOffice 7.4 at 16 pt: where the text changes between
        Chinese and ASCII (or —— and ……, which the .docx tags as English so
        they stay whole), the last character before the change loses its
        character spacing (the boundary); a hanzi next to an ASCII letter or
        digit also gets the Asian/Latin autospace (1/5 of the font size).
        Returns (boundary, autospace).
        """
        if left.space != right.space:
            # A space starts or ends a run of its own: the character before the change loses its spacing too.
            return (self.boundary, 0.0) if left.ascii and right.ascii else (0.0, 0.0)
        if left.latin_run == right.latin_run or left.space:
            return 0.0, 0.0
        alnum_pair = (left.cjk and right.latin_alnum) or (left.latin_alnum and right.cjk)
        return self.boundary, self.autospace if alnum_pair else 0.0

    def _warn(self, ch: str, where: str, what: str) -> None:
        key = (ch, where)
        if key not in self._reported:
            self._reported.add(key)
            self.warnings.append(f"{where}: 字符 “{ch}” (U+{ord(ch):04X}) {what}")
