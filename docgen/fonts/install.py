"""``docgen fonts install``: the free font set, built once per machine.

Fetches two Debian packages with ``apt-get download`` (no root, no TeX Live
install), takes only the six font files out of them, converts CFF→TrueType
(reportlab needs glyf outlines) in a pool of two processes, installs the
result into ``$XDG_DATA_HOME/fonts/docgen`` with a fontconfig alias file, and
records a manifest so a second run is a few hashes and returns at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from docgen import __version__
from docgen.errors import FontError
from docgen.fonts.convert import RECIPE_VERSION, BuildJob, build_font, file_sha256

Echo = Callable[[str], None]

TEXLIVE = "texlive-lang-chinese"
NOTO = "fonts-noto-cjk"
FANDOL_DIR = "usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"
NOTO_DIR = "usr/share/fonts/opentype/noto"
FALLBACK_FAMILY = "Docgen Fallback SC"
SYSTEM_ROOT = Path("/")  # where an installed package's files are looked for (tests point it elsewhere)
MANIFEST_NAME = "manifest.json"
CONF_NAME = "65-docgen.conf"


@dataclass(frozen=True)
class FreeFont:
    key: str  # role id, or 'fallback'
    filename: str  # installed .ttf
    family: str  # family name fontconfig reports
    style: str
    ps_name: str
    package: str
    member: str  # path inside the .deb (and on a system with the package)
    face_family: str | None  # in a .ttc: the face whose family this is
    charset: str | None  # None: keep every glyph
    keep_layout: bool
    cost: int  # relative conversion time: biggest first keeps both workers busy


# Fandol is kept whole: measured, a GB2312 subset converts no faster
# (17.2 s vs 17.9 s for FandolFang) and saves 1.8 MB, but drops 1182 GBK
# hanzi that would otherwise be drawn in 仿宋/楷/黑 style rather than fall
# back to a Song face. Noto is subset: the whole face is 65 535 glyphs.
def _fandol(role: str, name: str, cost: int) -> FreeFont:
    return FreeFont(
        key=role,
        filename=f"{name}-Regular.ttf",
        family=name,
        style="Regular",
        ps_name=f"{name}-Regular",
        package=TEXLIVE,
        member=f"{FANDOL_DIR}/{name}-Regular.otf",
        face_family=None,
        charset=None,
        keep_layout=True,
        cost=cost,
    )


FREE_FONTS: tuple[FreeFont, ...] = (
    FreeFont(
        key="fallback",
        filename="DocgenFallbackSC-Regular.ttf",
        family=FALLBACK_FAMILY,
        style="Regular",
        ps_name="DocgenFallbackSC-Regular",
        package=NOTO,
        member=f"{NOTO_DIR}/NotoSerifCJK-Regular.ttc",
        face_family="Noto Serif CJK SC",
        charset="gbk",  # every GBK hanzi: the rare name characters GB2312 fonts lack
        keep_layout=False,
        cost=30,
    ),
    _fandol("kaiti", "FandolKai", 20),
    _fandol("fangsong", "FandolFang", 18),
    _fandol("heiti", "FandolHei", 16),
    _fandol("songti", "FandolSong", 14),
    FreeFont(
        key="xiaobiaosong",
        filename="NotoSerifCJKsc-Bold.ttf",
        family="Noto Serif CJK SC",
        style="Bold",
        ps_name="NotoSerifCJKsc-Bold",
        package=NOTO,
        member=f"{NOTO_DIR}/NotoSerifCJK-Bold.ttc",
        face_family="Noto Serif CJK SC",
        charset="gb2312",
        keep_layout=False,  # horizontal text only; features triple the glyph count
        cost=12,
    ),
)
FREE_BY_KEY = {f.key: f for f in FREE_FONTS}

# Windows/Founder family → free family, for fontconfig (and so LibreOffice).
ACCEPT_ALIASES: dict[str, str] = {
    "仿宋_GB2312": "FandolFang",
    "仿宋": "FandolFang",
    "FangSong_GB2312": "FandolFang",
    "FangSong": "FandolFang",
    "黑体": "FandolHei",
    "SimHei": "FandolHei",
    "楷体_GB2312": "FandolKai",
    "楷体": "FandolKai",
    "KaiTi": "FandolKai",
    "KaiTi_GB2312": "FandolKai",
    "宋体": "FandolSong",
    "SimSun": "FandolSong",
}
XIAOBIAOSONG_NAMES = ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "小标宋")


class FontInstallError(FontError):
    """The free set could not be fetched or built; the message says what to do."""


# ---------------------------------------------------------------- locations


def xdg_dir(var: str, default: str) -> Path:
    """``$XDG_…`` when set to an absolute path (the XDG rule), else ``~/default``."""
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def font_dir() -> Path:
    """Where the free set lives: ``$DOCGEN_FONT_DIR`` or ``$XDG_DATA_HOME/fonts/docgen``."""
    override = os.environ.get("DOCGEN_FONT_DIR")
    if override:
        return Path(override).expanduser()
    return xdg_dir("XDG_DATA_HOME", ".local/share") / "fonts" / "docgen"


def fontconfig_conf_path() -> Path:
    return xdg_dir("XDG_CONFIG_HOME", ".config") / "fontconfig" / "conf.d" / CONF_NAME


def deb_cache_dir() -> Path:
    return xdg_dir("XDG_CACHE_HOME", ".cache") / "docgen" / "debs"


def font_cache_dir() -> Path:
    """Users' CFF fonts converted to TrueType, by sha256 of the original."""
    return xdg_dir("XDG_CACHE_HOME", ".cache") / "docgen" / "fonts"


def manifest_path(dest: Path | None = None) -> Path:
    return (dest or font_dir()) / MANIFEST_NAME


# ---------------------------------------------------------------- fontconfig


def fontconfig_xml(dest: Path) -> str:
    """The alias file of research §3.4.

    ``<accept>`` (not ``<prefer>``) so a real 仿宋_GB2312 etc. installed on
    the machine still wins. Noto Serif CJK SC has several weights (a system
    fonts-noto-cjk brings Regular), so 小标宋 names get a rule that also asks
    for bold. Known limit: with a real 方正小标宋简体 installed, that bold
    request makes fontconfig's 90-synthetic.conf embolden it for fontconfig
    clients; LibreOffice is not affected (it takes installed families
    directly), and a user-level file cannot run after 90-synthetic.conf.
    """
    lines = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
        f"<!-- 由 docgen {__version__} 生成，docgen fonts install 会覆盖 (written by docgen fonts install) -->",
        "<fontconfig>",
    ]
    defaults = [xdg_dir("XDG_DATA_HOME", ".local/share") / "fonts", Path.home() / ".fonts"]
    if not any(dest.resolve().is_relative_to(d.resolve()) for d in defaults):
        lines.append(f"  <dir>{escape(str(dest))}</dir>")
    lines.append("  <!-- accept: used only when the named Windows font is not installed -->")
    for name, family in ACCEPT_ALIASES.items():
        lines.append(
            f'  <alias binding="same"><family>{escape(name)}</family>'
            f"<accept><family>{escape(family)}</family></accept></alias>"
        )
    noto = FREE_BY_KEY["xiaobiaosong"].family
    for name in XIAOBIAOSONG_NAMES:
        lines += [
            '  <match target="pattern">',
            f'    <test name="family"><string>{escape(name)}</string></test>',
            f'    <edit name="family" mode="append" binding="strong"><string>{escape(noto)}</string></edit>',
            '    <edit name="weight" mode="assign" binding="strong"><const>bold</const></edit>',
            "  </match>",
        ]
    lines.append("</fontconfig>")
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _fc_cache(dest: Path, echo: Echo) -> None:
    if not shutil.which("fc-cache"):
        echo("提示：未找到 fc-cache，LibreOffice 可能看不到新字体 (note: fc-cache not found; fontconfig not refreshed)")
        return
    subprocess.run(["fc-cache", "-f", str(dest)], check=False, capture_output=True)


# ---------------------------------------------------------------- manifest


def _read_manifest(dest: Path) -> dict | None:
    try:
        data = json.loads(manifest_path(dest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _manifest_ok(dest: Path, manifest: dict | None) -> bool:
    """Every font listed, present and byte-identical (sha256) to what was built."""
    if not manifest or manifest.get("recipe") != RECIPE_VERSION:
        return False
    files = {f.get("file"): f for f in manifest.get("files", []) if isinstance(f, dict)}
    for font in FREE_FONTS:
        entry = files.get(font.filename)
        path = dest / font.filename
        if not entry or not path.is_file() or path.stat().st_size != entry.get("size"):
            return False
        if file_sha256(path) != entry.get("sha256"):
            return False
    return True


def installed_sha256(dest: Path | None = None) -> dict[str, tuple[str, int]]:
    """file name → (sha256, size) from the manifest (fingerprints skip re-hashing)."""
    manifest = _read_manifest(dest or font_dir()) or {}
    return {
        f["file"]: (str(f.get("sha256", "")), int(f.get("size", -1)))
        for f in manifest.get("files", [])
        if isinstance(f, dict) and "file" in f
    }


# ---------------------------------------------------------------- sources


def manual_instructions(reason: str) -> str:
    fandol = ", ".join(Path(f.member).name for f in FREE_FONTS if f.package == TEXLIVE)
    noto = ", ".join(sorted({Path(f.member).name for f in FREE_FONTS if f.package == NOTO}))
    return (
        f"无法获取免费字体软件包 {TEXLIVE}、{NOTO} (could not fetch the free font packages)：{reason}\n"
        "请任选一种方式手动准备字体 (do one of these by hand):\n"
        "  1. 在能访问 Debian 软件源的机器上下载两个软件包 (on a machine that reaches a Debian mirror):\n"
        f"       apt-get update && apt-get download {TEXLIVE} {NOTO}\n"
        "     把两个 .deb 复制到本机某目录后运行 (copy both .deb files into a directory here, then run):\n"
        "       docgen fonts install --from 目录/DIR\n"
        f"  2. 或以 root 安装 (or as root): apt-get install {TEXLIVE} {NOTO}，再运行 docgen fonts install\n"
        "  3. 或直接使用自己的字体文件 (or use your own font files):\n"
        "       docgen build 文件.yaml --font 仿宋=/path/simfang.ttf --font 黑体=/path/simhei.ttf …\n"
        "     也可写入 ~/.config/docgen/fonts.yaml（角色: 文件路径）(or list role: path there)\n"
        f"  需要的文件 (files needed): {fandol}（{TEXLIVE}，/{FANDOL_DIR}/）；"
        f"{noto}（{NOTO}，/{NOTO_DIR}/）"
    )


def _find_deb(package: str, dirs: list[Path]) -> Path | None:
    for d in dirs:
        hits = sorted(d.glob(f"{package}_*.deb")) if d.is_dir() else []
        if hits:
            return hits[-1]
    return None


def _find_loose(name: str, from_dir: Path | None) -> Path | None:
    """A font file the user unpacked into ``--from DIR`` (any depth)."""
    if from_dir and from_dir.is_dir():
        for hit in from_dir.rglob(name):
            if hit.is_file():
                return hit
    return None


def _apt_download(packages: list[str], cache: Path, echo: Echo) -> None:
    if not shutil.which("apt-get"):
        raise FontInstallError(manual_instructions("本机没有 apt-get (apt-get not found)"))
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    echo(f"下载 (download) {' '.join(packages)} …")
    proc = subprocess.run(["apt-get", "download", *packages], cwd=cache, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        tail = " / ".join(line for line in detail if line.startswith("E:"))[:400] or (detail[-1] if detail else "")
        raise FontInstallError(manual_instructions(f"apt-get download 失败 (failed): {tail}"))
    echo(f"  下载完成 (downloaded) … {time.perf_counter() - started:.1f} s")


def _extract(deb: Path, members: list[str], out: Path) -> dict[str, Path]:
    """Stream ``dpkg-deb --fsys-tarfile`` through tarfile, keeping only ``members``.

    Nothing of the package is installed; only the named files are written.
    """
    if not shutil.which("dpkg-deb"):
        raise FontInstallError(manual_instructions("本机没有 dpkg-deb (dpkg-deb not found)"))
    wanted = {m.strip("/") for m in members}
    found: dict[str, Path] = {}
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for info in tar:
                name = info.name.removeprefix("./")
                if name in wanted and info.isfile():
                    target = out / Path(name).name
                    src = tar.extractfile(info)
                    assert src is not None
                    with target.open("wb") as fh:
                        shutil.copyfileobj(src, fh, 1 << 20)
                    found[name] = target
                    if len(found) == len(wanted):
                        break  # the rest of the archive is not needed
    except tarfile.TarError as exc:
        proc.kill()
        proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip()
        raise FontInstallError(manual_instructions(f"{deb.name} 无法解包 (cannot unpack): {err or exc}")) from None
    finally:
        proc.stdout.close()
    if len(found) == len(wanted):
        proc.kill()
    proc.wait()
    proc.stderr.close()
    missing = wanted - set(found)
    if missing:
        raise FontInstallError(manual_instructions(f"{deb.name} 中没有 (not in package): {', '.join(sorted(missing))}"))
    return found


def _locate_sources(work: Path, from_dir: Path | None, echo: Echo) -> dict[str, Path]:
    """member path → a readable file, fetching and extracting what is not on disk."""
    sources: dict[str, Path] = {}
    pending: dict[str, list[str]] = {}
    for font in FREE_FONTS:
        if font.member in sources:
            continue
        loose = _find_loose(Path(font.member).name, from_dir)
        system = SYSTEM_ROOT / font.member  # the package is installed system-wide
        if loose:
            sources[font.member] = loose
        elif system.is_file():
            sources[font.member] = system
        else:
            pending.setdefault(font.package, []).append(font.member)
    if not pending:
        return sources

    cache = deb_cache_dir()
    search = [d for d in (from_dir, cache) if d]
    debs = {pkg: _find_deb(pkg, search) for pkg in pending}
    absent = [pkg for pkg, deb in debs.items() if deb is None]
    if absent:
        _apt_download(absent, cache, echo)
        debs.update({pkg: _find_deb(pkg, [cache]) for pkg in absent})
    started = time.perf_counter()
    # One package after the other: dpkg-deb's xz already keeps both cores busy
    # (measured: 4.4 s either way).
    for pkg, members in pending.items():
        deb = debs[pkg]
        if deb is None:
            raise FontInstallError(
                manual_instructions(f"下载后仍找不到 {pkg}_*.deb (package file missing after download)")
            )
        sources.update(_extract(deb, members, work))
    names = ", ".join(Path(m).name for ms in pending.values() for m in ms)
    echo(f"提取 (extract) {names} … {time.perf_counter() - started:.1f} s")
    return sources


def _face_index(path: Path, family: str | None) -> int:
    """Index of the face of a .ttc whose family is ``family`` (SC in Noto CJK)."""
    if family is None or path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(path), lazy=True)
    try:
        for i, face in enumerate(coll.fonts):
            if face["name"].getDebugName(1) == family:
                return i
    finally:
        coll.close()
    raise FontInstallError(manual_instructions(f"{path.name} 中没有 {family} 字面 (face not found)"))


# ---------------------------------------------------------------- install


@dataclass
class InstallResult:
    dest: Path
    conf: Path
    seconds: float
    already: bool  # everything was in place; nothing rebuilt
    files: list[dict]


def install(
    *,
    force: bool = False,
    from_dir: Path | None = None,
    echo: Echo = print,
    workers: int = 2,
) -> InstallResult:
    started = time.perf_counter()
    dest = font_dir()
    conf = fontconfig_conf_path()
    conf_text = fontconfig_xml(dest)
    manifest = _read_manifest(dest)

    if not force and _manifest_ok(dest, manifest):
        assert manifest is not None
        conf_ok = conf.is_file() and conf.read_text(encoding="utf-8") == conf_text
        if not conf_ok:
            _write_atomic(conf, conf_text)
            _fc_cache(dest, echo)
            echo(f"已更新 fontconfig 别名文件 (alias file rewritten): {conf}")
        seconds = time.perf_counter() - started
        echo(f"字体已全部就位，无需重装 (all fonts in place): {dest}  ({seconds:.2f} s)")
        return InstallResult(dest, conf, seconds, True, manifest["files"])

    dest.mkdir(parents=True, exist_ok=True)
    with _install_lock(dest):
        manifest = _read_manifest(dest)
        if not force and _manifest_ok(dest, manifest):  # another process finished it meanwhile
            return install(force=False, from_dir=from_dir, echo=echo, workers=workers)
        return _build(dest, conf, conf_text, manifest, from_dir, echo, workers, started)


@contextlib.contextmanager
def _install_lock(dest: Path) -> Iterator[None]:
    """One install at a time per directory (parallel test runs, two shells)."""
    with (dest / ".install.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _build(
    dest: Path,
    conf: Path,
    conf_text: str,
    manifest: dict | None,
    from_dir: Path | None,
    echo: Echo,
    workers: int,
    started: float,
) -> InstallResult:
    echo(f"安装免费字体集到 (installing the free font set into) {dest}")
    with tempfile.TemporaryDirectory(prefix="docgen-fonts-") as tmp:
        sources = _locate_sources(Path(tmp), from_dir, echo)
        jobs = []
        for font in FREE_FONTS:
            src = sources[font.member]
            jobs.append(
                (
                    font,
                    BuildJob(
                        source=str(src),
                        index=_face_index(src, font.face_family),
                        output=str(dest / font.filename),
                        family=font.family,
                        style=font.style,
                        ps_name=font.ps_name,
                        charset=font.charset,
                        keep_layout=font.keep_layout,
                    ),
                )
            )
        jobs.sort(key=lambda j: -j[0].cost)
        results = _run_jobs(jobs, workers, echo)

    files = []
    for font in FREE_FONTS:
        path = dest / font.filename
        files.append(
            {
                "file": font.filename,
                "role": font.key,
                "family": font.family,
                "style": font.style,
                "package": font.package,
                "member": font.member,
                "glyphs": results[font.key]["glyphs"],
                "size": path.stat().st_size,
                "sha256": file_sha256(path),
            }
        )
    # Files an older install wrote that this one does not: remove only those
    # the old manifest lists, never anything else in a user-chosen directory.
    current = {f.filename for f in FREE_FONTS}
    for old in (manifest or {}).get("files", []):
        name = old.get("file") if isinstance(old, dict) else None
        if isinstance(name, str) and name not in current and Path(name).name == name:
            (dest / name).unlink(missing_ok=True)

    _write_atomic(conf, conf_text)
    _fc_cache(dest, echo)
    seconds = time.perf_counter() - started
    _write_atomic(
        manifest_path(dest),
        json.dumps(
            {
                "docgen_version": __version__,
                "recipe": RECIPE_VERSION,
                "font_dir": str(dest),
                "fontconfig": str(conf),
                "installed": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seconds": round(seconds, 1),
                "files": files,
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
    )
    total = sum(f["size"] for f in files) / 1e6
    echo(f"完成 (done): {len(files)} 个字体 {total:.1f} MB，fontconfig: {conf}  ({seconds:.1f} s)")
    return InstallResult(dest, conf, seconds, False, files)


def _run_jobs(jobs: list[tuple[FreeFont, BuildJob]], workers: int, echo: Echo) -> dict[str, dict]:
    """Convert in a process pool (the work is pure-Python CPU: threads would not help)."""
    import multiprocessing

    total = len(jobs)
    results: dict[str, dict] = {}
    # spawn, not fork: safe when the caller has threads (test runners, servers).
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx) as pool:
        futures = {pool.submit(build_font, job): font for font, job in jobs}
        for done, fut in enumerate(as_completed(futures), 1):
            font = futures[fut]
            try:
                result = fut.result()
            except FontError:
                raise
            except Exception as exc:
                raise FontInstallError(f"转换 {font.family} 失败 (conversion failed): {exc}") from exc
            results[font.key] = result
            label = font.family if font.style == "Regular" else f"{font.family} {font.style}"
            echo(
                f"[{done}/{total}] 转换 (convert) {label} … {result['seconds']:.1f} s, "
                f"{result['glyphs']} glyphs, {result['size'] / 1e6:.1f} MB"
            )
    return results
