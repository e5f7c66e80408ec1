"""Font file work: character sets, embedding checks, CFF→TrueType conversion.

Why fontTools: it is the standard, maintained Python font library (the one
the Google Fonts and Adobe toolchains use); ``fontTools.subset`` is the
reference subsetter and ``cu2qu`` is the reference converter from cubic (CFF)
to quadratic (TrueType) outlines. reportlab 5 cannot read CFF outlines
("postscript outlines are not supported"), and every free CJK font we can
fetch from Debian is CFF, so each one goes through here once, at install
time or the first time a user's .otf is seen — never per document.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from docgen.errors import FontError

# Bump when the conversion below changes in a way that alters output files:
# installed fonts and the user-font cache are rebuilt when it differs.
RECIPE_VERSION = 1

# Conversion settings from research §1.2 (fontTools Snippets/otf2ttf.py).
MAX_ERR = 1.0  # font units; below what a 16 pt glyph can show
POST_FORMAT = 3.0  # CID-keyed CFF fonts have no glyph names worth keeping
REVERSE_DIRECTION = True  # CFF contours run counter-clockwise, TrueType clockwise

# OS/2 fsType bits (OpenType spec): 0x0002 alone = restricted licence
# embedding; 0x0100 = no subsetting; 0x0200 = bitmap embedding only. reportlab
# refuses these (ttfonts.py) with a terse TTFError; we refuse first, naming the file.
FSTYPE_RESTRICTED = 0x0002
FSTYPE_NO_SUBSETTING = 0x0100
FSTYPE_BITMAP_ONLY = 0x0200


# ---------------------------------------------------------------- charsets


def _decode_range(codec: str, lead: range, trail: range) -> set[str]:
    chars: set[str] = set()
    for a in lead:
        for b in trail:
            try:
                chars.add(bytes((a, b)).decode(codec))
            except UnicodeDecodeError:
                continue
    return chars


@functools.cache
def gb2312_hanzi() -> frozenset[str]:
    """The 6763 hanzi of GB 2312 (rows 16–87), from Python's own codec."""
    return frozenset(_decode_range("gb2312", range(0xB0, 0xF8), range(0xA1, 0xFF)))


@functools.cache
def gb2312_chars() -> frozenset[str]:
    """All 7445 GB 2312 characters: hanzi plus the 682 symbols of rows 1–9."""
    return frozenset(_decode_range("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF)))


@functools.cache
def gbk_chars() -> frozenset[str]:
    """Every two-byte GBK character (21 791: 20 923 hanzi plus symbols)."""
    return frozenset(_decode_range("gbk", range(0x81, 0xFF), range(0x40, 0xFF)))


def _span(first: int, last: int) -> set[int]:
    return set(range(first, last + 1))


# What a 公文 may contain besides hanzi: ASCII, Latin-1, general punctuation
# (— … ‘’“”), letterlike (℃ №), Roman numerals, arrows, maths operators,
# circled numbers (①), box drawing, shapes (○□△◆), ★☆ (the Party-organ
# star), CJK punctuation (、。〔〕【】) and fullwidth forms (，：０-９).
EXTRA_CODEPOINTS: frozenset[int] = frozenset(
    _span(0x20, 0x7E)
    | _span(0xA0, 0xFF)
    | _span(0x2000, 0x206F)
    | _span(0x2100, 0x218F)
    | _span(0x2190, 0x21FF)
    | _span(0x2200, 0x22FF)
    | _span(0x2460, 0x24FF)
    | _span(0x2500, 0x257F)
    | _span(0x25A0, 0x25FF)
    | {0x2605, 0x2606}
    | _span(0x3000, 0x303F)
    | _span(0xFE30, 0xFE4F)
    | _span(0xFF00, 0xFFEF)
)


def charset_codepoints(name: str) -> frozenset[int]:
    """Code points kept by a named subset: ``gb2312`` or ``gbk`` (+ the extras)."""
    if name == "gb2312":
        base = gb2312_chars()
    elif name == "gbk":
        # The whole URO block costs ~90 glyphs over GBK and catches rare
        # name characters that entered Unicode after GBK.
        base = gbk_chars() | {chr(c) for c in range(0x4E00, 0xA000)}
    else:
        raise ValueError(name)
    return frozenset({ord(c) for c in base} | EXTRA_CODEPOINTS)


# ---------------------------------------------------------------- inspection


@dataclass(frozen=True)
class FontInfo:
    path: Path
    index: int
    faces: int  # number of faces in the file (1 unless .ttc/.otc)
    outline: str  # 'glyf', 'CFF ' or 'CFF2'
    family: str
    style: str
    ps_name: str
    fs_type: int
    weight: int
    codepoints: frozenset[int]

    @property
    def needs_conversion(self) -> bool:
        return self.outline != "glyf"

    @property
    def embedding_problem(self) -> str | None:
        """Why the fsType forbids subset embedding in a PDF, or None."""
        fs = self.fs_type
        if fs & 0x000F == FSTYPE_RESTRICTED:
            return "fsType 0x0002 受限授权，禁止嵌入 (restricted licence embedding)"
        if fs & FSTYPE_NO_SUBSETTING:
            return "fsType 0x0100 禁止子集化 (no subsetting)"
        if fs & FSTYPE_BITMAP_ONLY:
            return "fsType 0x0200 只允许嵌入位图 (bitmap embedding only)"
        return None


def split_index(spec: str | Path) -> tuple[Path, int | None]:
    """``/x/NotoSerifCJK.ttc#2`` → (path, 2). A real file named with '#' wins."""
    text = str(spec)
    path = Path(text).expanduser()
    if "#" in text and not path.exists():
        base, _, idx = text.rpartition("#")
        if idx.isdigit():
            return Path(base).expanduser(), int(idx)
    return path, None


def _best_name(font, name_id: int) -> str:  # type: ignore[no-untyped-def]
    table = font["name"]
    # English Windows name first: fontconfig and PDF viewers show it.
    for rec in table.names:
        if rec.nameID == name_id and rec.platformID == 3 and rec.langID == 0x409:
            return rec.toUnicode()
    value = table.getDebugName(name_id)
    return value or ""


def _open(path: Path, index: int, lazy: bool = True):  # type: ignore[no-untyped-def]
    """fontTools TTFont for one face; FontError (named file) if unreadable."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with path.open("rb") as fh:
            tag = fh.read(4)
        if tag == b"ttcf":
            from fontTools.ttLib import TTCollection

            coll = TTCollection(str(path), lazy=lazy)
            n = len(coll.fonts)
            if not 0 <= index < n:
                raise FontError(
                    f"字体集 {path} 只有 {n} 个字面，没有第 {index} 个 (font collection has faces 0–{n - 1}; use FILE.ttc#N)"
                )
            return coll.fonts[index], n
        if index not in (0, None):
            raise FontError(f"{path} 不是字体集 (.ttc)，不能指定字面序号 #{index} (not a collection)")
        return TTFont(str(path), lazy=lazy), 1
    except FontError:
        raise
    except FileNotFoundError:
        raise FontError(f"找不到字体文件 {path} (font file not found)") from None
    except (TTLibError, OSError, AssertionError, KeyError, ValueError) as exc:
        raise FontError(f"无法读取字体文件 {path}：{exc} (not a readable font file)") from None


def inspect_font(path: Path, index: int = 0) -> FontInfo:
    font, faces = _open(path, index)
    try:
        if "glyf" in font:
            outline = "glyf"
        elif "CFF " in font:
            outline = "CFF "
        elif "CFF2" in font:
            outline = "CFF2"
        else:
            raise FontError(f"{path} 没有轮廓表 (no glyf/CFF outlines; bitmap-only fonts are not supported)")
        os2 = font.get("OS/2")
        cmap = font.getBestCmap() or {}
        family = _best_name(font, 16) or _best_name(font, 1)
        return FontInfo(
            path=path,
            index=index,
            faces=faces,
            outline=outline,
            family=family,
            style=_best_name(font, 17) or _best_name(font, 2),
            ps_name=_best_name(font, 6),
            fs_type=os2.fsType if os2 is not None else 0,
            weight=os2.usWeightClass if os2 is not None else 400,
            codepoints=frozenset(cmap),
        )
    except FontError:
        raise
    except Exception as exc:  # a damaged table surfaces only when read lazily
        raise FontError(f"无法读取字体文件 {path}：{exc} (damaged font file)") from None
    finally:
        font.close()


def check_embeddable(info: FontInfo) -> None:
    problem = info.embedding_problem
    if problem:
        raise FontError(
            f"字体 {info.path}（{info.family}）的授权不允许嵌入 PDF：{problem}。"
            f"请换用允许嵌入的字体 (font licence forbids PDF embedding: {info.path})"
        )


# ---------------------------------------------------------------- conversion


def cff_to_truetype(font, only: set[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Replace the CFF outlines of a fontTools TTFont by TrueType ones, in place.

    The fontTools Snippets/otf2ttf.py recipe: every glyph is drawn through
    Cu2QuPen into a TTGlyphPen; hmtx advances are untouched, so line breaks
    computed from the converted file equal those of the original. With
    ``only``, other glyphs become empty (a later glyf subset drops them).
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    if "CFF2" in font:
        raise FontError("暂不支持 CFF2（可变字体）轮廓 (CFF2 variable fonts are not supported)")
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    quad = {}
    empty = None
    for name in glyph_order:
        if only is not None and name not in only:
            if empty is None:
                empty = TTGlyphPen(None).glyph()
            quad[name] = empty  # shared: rounding 50k empty glyphs costs ~1 s
            continue
        tt_pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(tt_pen, MAX_ERR, reverse_direction=REVERSE_DIRECTION))
        quad[name] = tt_pen.glyph()

    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = quad
    del font["CFF "]
    if "VORG" in font:  # only meaningful with CFF outlines
        del font["VORG"]
    # Bounds only (the snippet compiles the whole table here, and save()
    # compiles it again: twice the slowest step).
    hmtx = font["hmtx"]
    for name, glyph in quad.items():
        glyph.recalcBounds(glyf)
        if hasattr(glyph, "xMin"):  # TrueType wants lsb == xMin
            hmtx[name] = (hmtx[name][0], glyph.xMin)

    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    maxp.maxTwilightPoints = 0
    maxp.maxStorage = 0
    maxp.maxFunctionDefs = 0
    maxp.maxInstructionDefs = 0
    maxp.maxStackElements = 0
    maxp.maxSizeOfInstructions = 0
    maxp.maxComponentElements = max((len(getattr(g, "components", ()) or ()) for g in quad.values()), default=0)
    maxp.compile(font)

    post = font["post"]
    post.formatType = POST_FORMAT
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    font.sfntVersion = "\x00\x01\x00\x00"


def set_names(font, family: str, style: str, ps_name: str) -> None:  # type: ignore[no-untyped-def]
    """One clean family/style pair, so fontconfig reports ``family`` alone.

    FandolFang ships nameID 1 "FandolFang R" with 16 "FandolFang", and Noto's
    face names differ per language; replace them by plain English records on
    the Mac and Windows platforms. Copyright/licence records stay.
    """
    table = font["name"]
    table.names = [r for r in table.names if r.nameID not in (1, 2, 3, 4, 6, 16, 17)]
    full = family if style == "Regular" else f"{family} {style}"
    values = {1: family, 2: style, 3: f"{ps_name};docgen", 4: full, 6: ps_name}
    for name_id, value in values.items():
        table.setName(value, name_id, 3, 1, 0x409)
        if name_id != 3:
            table.setName(value, name_id, 1, 0, 0)


def make_bold(font) -> None:  # type: ignore[no-untyped-def]
    """Fandol Bold faces say usWeightClass 400; fontconfig then calls them Regular
    and picks them for 黑体/宋体. Say 700 and set every bold bit."""
    os2 = font["OS/2"]
    os2.usWeightClass = 700
    os2.fsSelection = (os2.fsSelection | 0x20) & ~0x40  # BOLD on, REGULAR off
    font["head"].macStyle |= 0x01


@dataclass(frozen=True)
class BuildJob:
    """One free-set font to build (picklable: runs in a worker process)."""

    source: str  # path of the extracted .otf/.ttc
    index: int  # face in a .ttc
    output: str  # final .ttf path
    family: str
    style: str  # 'Regular' or 'Bold'
    ps_name: str
    charset: str | None  # 'gb2312' | 'gbk' | None (keep every glyph)
    keep_layout: bool  # keep GSUB/GPOS; False drops every feature


def _subset(font, charset: str, keep_layout: bool) -> None:  # type: ignore[no-untyped-def]
    from fontTools import subset

    opts = subset.Options()
    opts.layout_features = ["*"] if keep_layout else []
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.name_legacy = True
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.drop_tables = [*opts.drop_tables, "VORG"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=charset_codepoints(charset))
    sub.subset(font)


def build_font(job: BuildJob) -> dict[str, object]:
    """Subset, convert, rename and save one font. Runs in a worker process."""
    started = time.perf_counter()
    font, _ = _open(Path(job.source), job.index, lazy=False)
    font.recalcTimestamp = False  # keep head.modified: same sources, same bytes, same fingerprint
    if not job.keep_layout:
        for tag in ("GSUB", "GPOS", "GDEF", "BASE", "JSTF"):
            if tag in font:
                del font[tag]
    if job.charset and not job.keep_layout and "CFF " in font:
        # Fast path: convert only the glyphs the cmap reaches for the
        # charset, then subset the TrueType result (Noto Bold GB2312: 12.5 s
        # instead of 18.5 s through fontTools' CFF subsetter, whose subroutine
        # closure dominates). CID CFF glyphs have no components to follow.
        cmap = font.getBestCmap()
        keep = {".notdef"} | {cmap[cp] for cp in charset_codepoints(job.charset) if cp in cmap}
        cff_to_truetype(font, only=keep)
        _subset(font, job.charset, keep_layout=False)
    else:
        if job.charset:
            _subset(font, job.charset, job.keep_layout)
        if "CFF " in font:
            cff_to_truetype(font)
    set_names(font, job.family, job.style, job.ps_name)
    if job.style == "Bold":
        make_bold(font)
    out = Path(job.output)
    _atomic_save(font, out)
    glyphs = len(font.getGlyphOrder())
    font.close()
    return {"output": str(out), "glyphs": glyphs, "seconds": time.perf_counter() - started, "size": out.stat().st_size}


def _atomic_save(font, out: Path) -> None:  # type: ignore[no-untyped-def]
    # Write beside the target and rename: a reader never sees half a font.
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        font.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; fonts are for every reader
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- user fonts


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def prepare_font(path: Path, index: int | None, cache_dir: Path) -> tuple[Path, int, FontInfo]:
    """A file reportlab can embed, for one face of a user's or system font.

    Checks fsType before any work; TrueType files are used in place, CFF faces
    are converted once and cached by the source file's sha256 (so an edited
    font is converted again, a moved one is not). Returns (ttf path, face
    index in it, info about the original face).
    """
    idx = index or 0
    info = inspect_font(path, idx)
    check_embeddable(info)
    if not info.needs_conversion:
        return path, idx, info
    if info.outline == "CFF2":
        raise FontError(
            f"{path}：暂不支持 CFF2（可变字体）轮廓，请改用静态 .otf/.ttf (CFF2 variable fonts are not supported)"
        )
    digest = file_sha256(path)
    out = cache_dir / f"{digest[:32]}-{idx}-r{RECIPE_VERSION}.ttf"
    if not out.is_file():
        print(
            f"正在把 {path.name} 转换为 TrueType（仅首次，约 10–60 秒）… (converting CFF font once)",
            file=sys.stderr,
            flush=True,
        )
        font, _ = _open(path, idx, lazy=False)
        font.recalcTimestamp = False
        try:
            cff_to_truetype(font)
            _atomic_save(font, out)
        except FontError:
            raise
        except Exception as exc:
            raise FontError(f"无法转换字体 {path}：{exc} (CFF→TrueType conversion failed)") from None
        finally:
            font.close()
    return out, 0, info
