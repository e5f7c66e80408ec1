"""Font helpers for tests: the free set installed once, tiny fonts built on the spot.

Kept out of conftest.py so that other test modules can import what they need
(``from fonts_fixtures import ensure_fonts_installed``) without clashes.
"""

from __future__ import annotations

import functools
from pathlib import Path

from docgen.fonts.install import InstallResult, font_dir, fontconfig_conf_path, install


@functools.cache
def ensure_fonts_installed() -> InstallResult:
    """Run ``docgen fonts install`` once per session; fails loudly (no skip) if it cannot.

    Idempotent: on a machine that has the fonts this is a few hashes (<1 s);
    on a fresh one it builds the set (about a minute).
    """
    return install(echo=lambda line: print(line, flush=True))


def isolated_fontconfig(tmp: Path, extra_dirs: list[Path] | None = None) -> Path:
    """A FONTCONFIG_FILE that sees only the free set (+ ``extra_dirs``, + DejaVu) and our alias file.

    Makes tests independent of whatever CJK fonts the machine has (research §3.4).
    """
    dirs = [font_dir(), *(extra_dirs or []), Path("/usr/share/fonts/truetype/dejavu")]
    conf = tmp / "fonts.conf"
    body = "\n".join(f"  <dir>{d}</dir>" for d in dirs)
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
        f"{body}\n  <cachedir>{tmp / 'fc-cache'}</cachedir>\n"
        f'  <include ignore_missing="no">{fontconfig_conf_path()}</include>\n</fontconfig>\n',
        encoding="utf-8",
    )
    return conf


def build_tiny_font(
    path: Path,
    family: str,
    chars: str = "仿宋中文A ",
    *,
    cff: bool = False,
    fs_type: int = 0,
    style: str = "Regular",
) -> Path:
    """A few square glyphs under ``family``; TrueType, or CFF when ``cff``."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef"] + [f"uni{ord(c):04X}" for c in chars]
    cmap = {ord(c): f"uni{ord(c):04X}" for c in chars}
    advances = {n: 1000 for n in names}
    advances.update({f"uni{ord(c):04X}": 500 for c in chars if c.isascii()})

    def draw(pen, width: int) -> None:  # type: ignore[no-untyped-def]
        pen.moveTo((50, -80))
        pen.lineTo((50, 800))
        pen.curveTo((200, 850), (width - 200, 850), (width - 50, 800)) if cff else pen.lineTo((width - 50, 800))
        pen.lineTo((width - 50, -80))
        pen.closePath()

    fb = FontBuilder(1000, isTTF=not cff)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap(cmap)
    ps_name = "".join(c for c in family if c.isalnum()) or "Tiny"
    ps_name = f"{ps_name if ps_name.isascii() else 'Tiny'}-{style}"
    if cff:
        charstrings = {}
        for n in names:
            pen = T2CharStringPen(advances[n], None)
            if n != "uni0020":
                draw(pen, advances[n])
            charstrings[n] = pen.getCharString()
        fb.setupCFF(ps_name, {"FullName": f"{family} {style}"}, charstrings, {})
    else:
        glyphs = {}
        for n in names:
            pen = TTGlyphPen(None)
            if n != "uni0020":
                draw(pen, advances[n])
            glyphs[n] = pen.glyph()
        fb.setupGlyf(glyphs)
    metrics = {}
    glyph_table = fb.font["glyf"] if not cff else None
    for n in names:
        lsb = glyph_table[n].xMin if glyph_table is not None and hasattr(glyph_table[n], "xMin") else 50
        metrics[n] = (advances[n], lsb)
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": family, "styleName": style, "psName": ps_name})
    fb.setupOS2(
        sTypoAscender=880,
        sTypoDescender=-120,
        usWinAscent=880,
        usWinDescent=120,
        fsType=fs_type,
        usWeightClass=700 if style == "Bold" else 400,
    )
    fb.setupPost()
    path.parent.mkdir(parents=True, exist_ok=True)
    fb.save(str(path))
    return path
