"""Font roles → font files, parsed once per process.

Takes the role overrides (``--font 仿宋=FILE``), the user's fonts.yaml, the
fonts installed on the machine and the free set, and returns a ``FontSet``:
one registered reportlab TrueType face per role plus the missing-glyph
fallback face. Order per role: option → config file → system font with the
exact Windows family name → free set.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.errors import FontError
from docgen.fonts.convert import file_sha256, gb2312_hanzi, prepare_font, split_index
from docgen.fonts.install import FREE_BY_KEY, font_cache_dir, font_dir, installed_sha256, manifest_path, xdg_dir

ROLES: tuple[str, ...] = ("fangsong", "heiti", "kaiti", "songti", "xiaobiaosong", "latin")
REQUIRED_ROLES: tuple[str, ...] = ROLES[:-1]  # latin is optional: hanzi faces carry Latin glyphs too
ROLE_ZH: dict[str, str] = {
    "fangsong": "仿宋",
    "heiti": "黑体",
    "kaiti": "楷体",
    "songti": "宋体",
    "xiaobiaosong": "小标宋",
    "latin": "西文",
    "fallback": "后备",
}
SOURCE_ZH: dict[str, str] = {
    "option": "参数",
    "config": "配置文件",
    "system": "系统字体",
    "free": "免费字体集",
    "fallback": "免费字体集（后备）",
}

# Installed fonts that serve a role, by exact family name, best first:
# 仿宋_GB2312 is the face GB/T 9704 names; Windows' 仿宋 is a different design.
SYSTEM_FAMILIES: dict[str, tuple[str, ...]] = {
    "fangsong": ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong"),
    "heiti": ("黑体", "SimHei"),
    "kaiti": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi"),
    "songti": ("宋体", "SimSun"),
    "xiaobiaosong": ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S"),
    "latin": (),
}

ROLE_ALIASES: dict[str, str] = {role: role for role in ROLES}
ROLE_ALIASES.update({zh: role for role, zh in ROLE_ZH.items() if role in ROLES})
ROLE_ALIASES.update({"拉丁": "latin", "西文字体": "latin"})
ROLE_ALIASES.update({fam: role for role, fams in SYSTEM_FAMILIES.items() for fam in fams})


def normalize_role(name: str) -> str:
    """'仿宋', 'FangSong', '仿宋_GB2312', 'fangsong' → 'fangsong'; FontError otherwise."""
    key = str(name).strip()
    role = ROLE_ALIASES.get(key) or ROLE_ALIASES.get(key.lower())
    if role is None:
        known = "、".join(f"{ROLE_ZH[r]}/{r}" for r in ROLES)
        raise FontError(f"未知字体角色 {name!r}，可用：{known} (unknown font role)")
    return role


def parse_font_options(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``('仿宋=/a.ttf', 'heiti=/b.ttc#1')`` → ``{'fangsong': '/a.ttf', 'heiti': '/b.ttc#1'}``."""
    result: dict[str, str] = {}
    for value in values:
        role, sep, path = str(value).partition("=")
        if not sep or not role.strip() or not path.strip():
            raise FontError(
                f"--font 的格式应为 角色=路径，如 仿宋=/path/simfang.ttf，收到 {value!r} (expected ROLE=PATH)"
            )
        result[normalize_role(role)] = path.strip()
    return result


# ---------------------------------------------------------------- faces

_WHITESPACE_EM = {"\u3000": 1.0}  # ideographic space is one em wherever it is missing


@dataclass(frozen=True)
class FontFace:
    role: str  # a role id, or 'fallback'
    family: str
    path: Path  # the TrueType file reportlab embeds
    source: str  # 'option' | 'config' | 'system' | 'free' | 'fallback'
    rl_name: str  # registered with reportlab.pdfbase.pdfmetrics
    index: int = 0  # face in a .ttc
    origin: Path | None = None  # the user's file, when ``path`` is its converted copy
    _ttf: Any = field(default=None, repr=False, compare=False)  # reportlab TTFont

    def has(self, ch: str) -> bool:
        glyphs = self._ttf.face.charToGlyph
        return all(c.isspace() or ord(c) in glyphs for c in ch)

    def advance(self, ch: str, size: float) -> float:
        """Advance width in pt (hmtx, as reportlab reads it); 0 for a missing glyph."""
        widths = self._ttf.face.charWidths
        code = ord(ch)
        if code in widths:
            return widths[code] * size / 1000.0
        if ch.isspace():
            if ch in _WHITESPACE_EM:
                return _WHITESPACE_EM[ch] * size
            return widths.get(0x20, 250) * size / 1000.0
        return 0.0

    @property
    def codepoints(self) -> frozenset[int]:
        return frozenset(self._ttf.face.charToGlyph)

    def lacks(self, chars: frozenset[str] | set[str] | str) -> list[str]:
        return [c for c in chars if not self.has(c)]


# One reportlab TTFont per file version per process: parsing a 9 MB font
# costs ~20–100 ms, and every document and FontSet shares it.
_TTF_CACHE: dict[tuple[str, int, int, int], Any] = {}
_TTF_LOCK = threading.Lock()


def _register(path: Path, index: int, family: str) -> tuple[str, Any]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    st = path.stat()
    key = (str(path.resolve()), index, st.st_size, st.st_mtime_ns)
    with _TTF_LOCK:
        ttf = _TTF_CACHE.get(key)
        if ttf is None:
            tag = hashlib.sha1(repr(key).encode()).hexdigest()[:8]
            stem = "".join(c for c in path.stem if c.isalnum() or c in "-_") or "font"
            name = f"Docgen-{stem}-{tag}"
            try:
                ttf = TTFont(name, str(path), subfontIndex=index)
            except (TTFError, OSError, ValueError, IndexError, KeyError) as exc:
                raise FontError(
                    f"reportlab 无法读取字体 {path}（{family}）：{exc} (reportlab cannot load this font)"
                ) from None
            pdfmetrics.registerFont(ttf)
            _TTF_CACHE[key] = ttf
    return ttf.fontName, ttf


def _face(role: str, path: Path, index: int, family: str, source: str, origin: Path | None = None) -> FontFace:
    rl_name, ttf = _register(path, index, family)
    return FontFace(role, family, path, source, rl_name, index, origin, ttf)


def _user_face(role: str, spec: str | Path, source: str, where: str) -> FontFace:
    """A font the user named: same checks as the free set (fsType, CFF→TTF)."""
    path, index = split_index(spec)
    if not path.is_absolute():
        path = path.resolve()
    try:
        ttf_path, ttf_index, info = prepare_font(path, index, font_cache_dir())
    except FontError as exc:
        raise FontError(f"{where}「{ROLE_ZH[role]}」：{exc.message}") from None
    origin = path if ttf_path != path else None
    return _face(role, ttf_path, ttf_index, info.family or path.stem, source, origin)


# ---------------------------------------------------------------- config file


def config_path() -> Path:
    override = os.environ.get("DOCGEN_FONTS_CONFIG")
    if override:
        return Path(override).expanduser()
    return xdg_dir("XDG_CONFIG_HOME", ".config") / "docgen" / "fonts.yaml"


def read_config(path: Path) -> dict[str, str]:
    """``仿宋: /path/simfang.ttf`` lines → role → path (relative to the file's folder)."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as exc:
        raise FontError(f"无法读取字体配置文件 {path}：{exc} (cannot read the fonts config)") from None
    if raw is None:
        return {}
    if isinstance(raw, dict) and isinstance(raw.get("fonts"), dict):
        raw = raw["fonts"]
    if not isinstance(raw, dict):
        raise FontError(f"字体配置文件 {path} 应为「角色: 文件路径」的映射 (expected a mapping role: path)")
    result: dict[str, str] = {}
    for key, value in raw.items():
        try:
            role = normalize_role(str(key))
        except FontError as exc:
            raise FontError(f"字体配置文件 {path}：{exc.message}") from None
        if value in (None, ""):
            continue
        spec = os.path.expanduser(str(value))
        result[role] = spec if os.path.isabs(spec) else str(path.parent / spec)
    return result


# ---------------------------------------------------------------- system fonts


@dataclass(frozen=True)
class SystemFont:
    families: tuple[str, ...]
    style: str
    weight: int
    index: int
    path: Path


@functools.cache
def _fc_list(env_key: tuple[str | None, ...]) -> tuple[SystemFont, ...]:
    if not shutil.which("fc-list"):
        return ()
    fmt = "%{family}\t%{style}\t%{weight}\t%{index}\t%{file}\n"
    try:
        out = subprocess.run(["fc-list", "--format", fmt], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    fonts = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 5:
            continue
        fams, style, weight, index, file = parts
        try:
            fonts.append(
                SystemFont(
                    tuple(f.strip() for f in fams.split(",")),
                    style,
                    int(float(weight or 80)),
                    int(index or 0),
                    Path(file),
                )
            )
        except ValueError:
            continue
    return tuple(fonts)


def system_fonts() -> tuple[SystemFont, ...]:
    env = tuple(
        os.environ.get(k) for k in ("FONTCONFIG_FILE", "FONTCONFIG_PATH", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME")
    )
    return _fc_list(env)


def find_system_font(role: str) -> tuple[str, SystemFont] | None:
    """The installed font whose family is exactly one of the role's Windows names.

    fc-list shows real families only (aliases such as our 65-docgen.conf play
    no part), so FandolFang is never mistaken for 仿宋_GB2312; fonts in our own
    directories are skipped for the same reason.
    """
    families = SYSTEM_FAMILIES.get(role, ())
    if not families:
        return None
    ours = [font_dir().resolve(), font_cache_dir().resolve()]
    for family in families:
        hits = [
            f
            for f in system_fonts()
            if family in f.families and not any(f.path.resolve().is_relative_to(d) for d in ours)
        ]
        if hits:
            # Regular (fontconfig weight 80) before Bold/Light faces of the same family.
            return family, min(hits, key=lambda f: (abs(f.weight - 80), f.index, str(f.path)))
    return None


# ---------------------------------------------------------------- font set


def _missing_message(role: str) -> str:
    zh = ROLE_ZH[role]
    if role == "latin":
        return "未配置西文字体 (no Latin font configured: --font 西文=/path/times.ttf)"
    return (
        f"没有可用的「{zh}」字体 (no font for role {role})：请运行 docgen fonts install 安装免费字体集，"
        f"或用 --font {zh}=/path/file.ttf 指定字体文件 (run `docgen fonts install`, or pass --font {zh}=FILE)"
    )


class FontSet:
    """The faces of one resolution: role faces, and the fallback loaded on first need."""

    def __init__(
        self,
        faces: dict[str, FontFace],
        problems: dict[str, str],
        notes: dict[str, str],
        fallback_loader: Callable[[], FontFace | None],
    ) -> None:
        self.faces = faces
        self.problems = problems  # role → why it is unresolved
        self.notes = notes  # role → e.g. a system font that was skipped
        self._fallback_loader = fallback_loader
        self._fallback: FontFace | None = None
        self._fallback_loaded = False
        self._lock = threading.Lock()

    def face(self, role: str) -> FontFace:
        role = normalize_role(role)
        face = self.faces.get(role)
        if face is None:
            raise FontError(self.problems.get(role) or _missing_message(role))
        return face

    def optional_face(self, role: str) -> FontFace | None:
        return self.faces.get(normalize_role(role))

    @property
    def fallback(self) -> FontFace | None:
        if not self._fallback_loaded:  # the 9.6 MB fallback is parsed only if a document needs it
            with self._lock:
                if not self._fallback_loaded:
                    self._fallback = self._fallback_loader()
                    self._fallback_loaded = True
        return self._fallback

    def face_for_char(self, role: str, ch: str) -> FontFace | None:
        """Role face if it has ``ch``, else the fallback face if it has it, else None."""
        primary = self.faces.get(role)  # hot path: called per character with a role id
        if primary is None:
            role = normalize_role(role)
            primary = self.faces.get(role)
            if primary is None and role != "latin":  # latin unset: the fallback chain alone
                raise FontError(self.problems.get(role) or _missing_message(role))
        if primary is not None and primary.has(ch):
            return primary
        fallback = self.fallback
        if fallback is not None and fallback.has(ch):
            return fallback
        return None

    def missing(self, role: str, text: str) -> list[str]:
        """Distinct characters of ``text`` no face in the chain can draw (tofu), in order."""
        seen: dict[str, None] = {}
        for ch in text:
            if ch not in seen and self.face_for_char(role, ch) is None:
                seen[ch] = None
        return list(seen)

    def describe(self) -> list[dict[str, Any]]:
        """Rows for ``docgen fonts``: one per role, then the fallback."""
        hanzi = sorted(gb2312_hanzi(), key=lambda c: c.encode("gb2312"))  # GB order: level-1 first
        rows = []
        for role in (*ROLES, "fallback"):
            face = self.fallback if role == "fallback" else self.faces.get(role)
            row: dict[str, Any] = {
                "role": role,
                "role_zh": ROLE_ZH[role],
                "required": role in REQUIRED_ROLES,
                "ok": face is not None,
                "family": face.family if face else None,
                "file": str(face.origin or face.path) if face else None,
                "embedded_file": str(face.path) if face else None,
                "index": face.index if face else None,
                "source": face.source if face else None,
                "source_zh": SOURCE_ZH[face.source] if face else None,
                "missing_gb2312": None,
                "missing_sample": "",
                "note": self.notes.get(role, ""),
                "problem": None if face else self._problem(role),
            }
            if face is not None and role != "latin":
                lacking = [c for c in hanzi if not face.has(c)]
                row["missing_gb2312"] = len(lacking)
                row["missing_sample"] = "".join(lacking[:12])
            rows.append(row)
        return rows

    def _problem(self, role: str) -> str:
        if role == "fallback":
            return "未安装后备字体，缺字将无法显示 (fallback not installed: run `docgen fonts install`)"
        return self.problems.get(role) or _missing_message(role)


def _fallback_path() -> Path | None:
    path = font_dir() / FREE_BY_KEY["fallback"].filename
    return path if path.is_file() else None


def _load_fallback() -> FontFace | None:
    path = _fallback_path()
    if path is None:
        return None
    return _face("fallback", path, 0, FREE_BY_KEY["fallback"].family, "fallback")


def _env_key() -> tuple[Any, ...]:
    """What else decides the resolution: a changed config or a fresh install gives a new FontSet."""

    def stamp(p: Path) -> int | None:
        try:
            return p.stat().st_mtime_ns
        except OSError:
            return None

    cfg = config_path()
    return (
        str(font_dir()),
        str(cfg),
        stamp(cfg),
        stamp(manifest_path()),
        *(os.environ.get(k) for k in ("FONTCONFIG_FILE", "HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")),
    )


def load_fontset(overrides: Mapping[str, str | Path] | None = None) -> FontSet:
    """Resolve every role (cached per process: later calls return the same FontSet)."""
    normalized: dict[str, str] = {}
    for key, value in (overrides or {}).items():
        normalized[normalize_role(key)] = str(value)
    return _load_cached(tuple(sorted(normalized.items())), _env_key())


@functools.cache
def _load_cached(overrides: tuple[tuple[str, str], ...], env: tuple[Any, ...]) -> FontSet:
    options = dict(overrides)
    cfg_path = config_path()
    config = read_config(cfg_path)
    faces: dict[str, FontFace] = {}
    problems: dict[str, str] = {}
    notes: dict[str, str] = {}
    for role in ROLES:
        if role in options:
            faces[role] = _user_face(role, options[role], "option", "--font")
            continue
        if role in config:
            faces[role] = _user_face(role, config[role], "config", f"字体配置文件 {cfg_path} 中")
            continue
        found = find_system_font(role)
        if found:
            family, sys_font = found
            try:
                path, index, _info = prepare_font(sys_font.path, sys_font.index, font_cache_dir())
                faces[role] = _face(
                    role, path, index, family, "system", sys_font.path if path != sys_font.path else None
                )
                continue
            except FontError as exc:  # e.g. an fsType-restricted font: the free set serves instead
                notes[role] = f"跳过系统字体 {sys_font.path}：{exc.message}"
        spec = FREE_BY_KEY.get(role)
        if spec is not None:
            path = font_dir() / spec.filename
            if path.is_file():
                faces[role] = _face(role, path, 0, spec.family, "free")
                continue
        problems[role] = _missing_message(role)
    return FontSet(faces, problems, notes, _load_fallback)


def clear_cache() -> None:
    """Forget resolved sets and fc-list output (tests that change fonts on disk)."""
    _load_cached.cache_clear()
    _fc_list.cache_clear()


# ---------------------------------------------------------------- fingerprint

_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _sha_of(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        # The free set's hashes are in its manifest; trust them while the size agrees.
        known = installed_sha256() if path.parent.resolve() == font_dir().resolve() else {}
        sha, size = known.get(path.name, ("", -1))
        _SHA_CACHE[key] = sha if size == st.st_size else file_sha256(path)
    return _SHA_CACHE[key]


def fontset_fingerprint(fs: FontSet) -> str:
    """sha256 over role → (file sha256, size, face index): equal sets, equal PDFs."""
    h = hashlib.sha256()
    # The fallback by its file: fingerprinting must not parse its 9.6 MB.
    files = [(role, (face.path, face.index) if (face := fs.faces.get(role)) else None) for role in ROLES]
    fallback = _fallback_path()
    files.append(("fallback", (fallback, 0) if fallback else None))
    for role, file in files:
        if file is None:
            h.update(f"{role}\t-\n".encode())
            continue
        path, index = file
        h.update(f"{role}\t{_sha_of(path)}\t{path.stat().st_size}\t{index}\n".encode())
    return h.hexdigest()
