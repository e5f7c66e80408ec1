"""The font layer, measured on real files: the installed free set, PDFs read
back with pdffonts/pdfplumber, LibreOffice's own PDF of a .docx, and small
fonts built here with fontTools (CFF, TTC, embedding-forbidden)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import docx
import pdfplumber
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from fonts_fixtures import build_tiny_font, ensure_fonts_installed, isolated_fontconfig
from fontTools.ttLib import TTCollection, TTFont
from reportlab.pdfgen.canvas import Canvas

from docgen.errors import FontError
from docgen.fonts import (
    ROLES,
    clear_cache,
    fontset_fingerprint,
    load_fontset,
    normalize_role,
    parse_font_options,
)
from docgen.fonts import install as inst
from docgen.fonts.cli import fonts as fonts_cli
from docgen.fonts.convert import file_sha256, gb2312_hanzi, gbk_chars
from docgen.fonts.docx_fonts import clean_docx_fonts, set_run_fonts

BASE14 = {
    "Courier",
    "Courier-Bold",
    "Courier-Oblique",
    "Courier-BoldOblique",
    "Helvetica",
    "Helvetica-Bold",
    "Helvetica-Oblique",
    "Helvetica-BoldOblique",
    "Times-Roman",
    "Times-Bold",
    "Times-Italic",
    "Times-BoldItalic",
    "Symbol",
    "ZapfDingbats",
}
FREE_FAMILIES = {
    "fangsong": "FandolFang",
    "heiti": "FandolHei",
    "kaiti": "FandolKai",
    "songti": "FandolSong",
    "xiaobiaosong": "Noto Serif CJK SC",
}
BODY = (
    "为做好今年防汛工作，确保人民群众生命财产安全，现将有关事项通知如下。各单位要高度重视，"
    "压实责任，加强值班值守，及时报送雨情水情，做到早发现、早报告、早处置。"
)


@pytest.fixture(scope="session")
def installed() -> inst.InstallResult:
    return ensure_fonts_installed()


@pytest.fixture
def fonts_env(installed: inst.InstallResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Only the free set is visible: no user config, no system CJK fonts, a private conversion cache."""
    monkeypatch.setenv("DOCGEN_FONTS_CONFIG", str(tmp_path / "no-fonts.yaml"))
    monkeypatch.setenv("FONTCONFIG_FILE", str(isolated_fontconfig(tmp_path)))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_cache()
    yield tmp_path
    clear_cache()


def pdffonts(pdf: Path) -> list[dict[str, str]]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        # name, type (may contain spaces: "CID TrueType"), encoding, emb, sub, uni, object, ID
        m = re.match(r"(\S+)\s+(.+?)\s{2,}(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+", line)
        assert m, line
        rows.append({"name": m[1], "type": m[2].strip(), "emb": m[4], "sub": m[5]})
    return rows


# ---------------------------------------------------------------- roles


def test_role_names_ascii_chinese_and_windows() -> None:
    assert [normalize_role(n) for n in ("仿宋", "fangsong", "FangSong", "仿宋_GB2312")] == ["fangsong"] * 4
    assert [normalize_role(n) for n in ("黑体", "楷体", "宋体", "小标宋", "西文")] == [
        "heiti",
        "kaiti",
        "songti",
        "xiaobiaosong",
        "latin",
    ]
    with pytest.raises(FontError, match="未知字体角色"):
        normalize_role("魏碑")
    assert parse_font_options(["仿宋=/a.ttf", "heiti=/b.ttc#1"]) == {"fangsong": "/a.ttf", "heiti": "/b.ttc#1"}
    with pytest.raises(FontError, match="角色=路径"):
        parse_font_options(["/a.ttf"])


# ---------------------------------------------------------------- install


def test_install_result_is_the_free_set(installed: inst.InstallResult) -> None:
    manifest = json.loads(inst.manifest_path(installed.dest).read_text(encoding="utf-8"))
    assert manifest["docgen_version"] and manifest["recipe"]
    by_role = {f["role"]: f for f in manifest["files"]}
    assert set(by_role) == {*FREE_FAMILIES, "fallback"}
    hanzi = {ord(c) for c in gb2312_hanzi()}
    for role, entry in by_role.items():
        path = installed.dest / entry["file"]
        assert file_sha256(path) == entry["sha256"]
        font = TTFont(path)
        assert "glyf" in font and "CFF " not in font and "VORG" not in font  # reportlab-readable
        assert font["post"].formatType == 3.0 and font["maxp"].tableVersion == 0x00010000
        cmap = set(font.getBestCmap())
        assert hanzi <= cmap, f"{entry['file']} lacks GB2312 hanzi"
        assert {0x3000, 0xFF0C, 0x3002, 0x201C, 0x2605} <= cmap  # 　，。“★
        query = subprocess.run(["fc-query", "-f", "%{family}|%{weight}", str(path)], capture_output=True, text=True)
        family, weight = query.stdout.split("|")
        if role == "fallback":
            assert family == "Docgen Fallback SC"
            assert {ord(c) for c in gbk_chars() if "\u4e00" <= c <= "\u9fff"} <= cmap  # every GBK hanzi
        else:
            assert family == FREE_FAMILIES[role]
        if role == "xiaobiaosong":
            assert font["OS/2"].usWeightClass == 700 and font["OS/2"].fsSelection & 0x20
            assert weight == "200"  # fontconfig bold
        else:
            assert weight == "80"  # regular: never mistaken for a bold face


def test_install_again_is_fast_and_says_so(installed: inst.InstallResult) -> None:
    lines: list[str] = []
    started = time.perf_counter()
    again = inst.install(echo=lines.append)
    assert time.perf_counter() - started < 1.0
    assert again.already and "字体已全部就位" in lines[-1] and "all fonts in place" in lines[-1]


def test_install_dir_override_and_damage_detection(
    installed: inst.InstallResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "fonts"
    shutil.copytree(installed.dest, dest)
    monkeypatch.setenv("DOCGEN_FONT_DIR", str(dest))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    lines: list[str] = []
    first = inst.install(echo=lines.append)  # fonts in place, alias file missing: written, fc-cache run
    assert first.already and first.dest == dest and "已更新 fontconfig 别名文件" in lines[0]
    assert inst.install(echo=lines.append).seconds < 1.0
    conf = (tmp_path / "config" / "fontconfig" / "conf.d" / "65-docgen.conf").read_text(encoding="utf-8")
    assert f"<dir>{dest}</dir>" in conf  # outside the XDG font dir: fontconfig must be told
    assert "<accept><family>FandolFang</family></accept>" in conf and "方正小标宋简体" in conf
    with (dest / "FandolSong-Regular.ttf").open("ab") as fh:
        fh.write(b"\0")
    assert not inst._manifest_ok(dest, inst._read_manifest(dest))


def test_install_without_packages_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCGEN_FONT_DIR", str(tmp_path / "fonts"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no apt-get
    monkeypatch.setattr(inst, "SYSTEM_ROOT", tmp_path / "root")
    result = CliRunner().invoke(fonts_cli, ["install"])
    assert result.exit_code == 2
    message = result.output
    assert "无法获取免费字体软件包" in message and "apt-get download texlive-lang-chinese fonts-noto-cjk" in message
    assert "docgen fonts install --from" in message and "FandolFang-Regular.otf" in message
    assert not (tmp_path / "fonts" / "manifest.json").exists()


# ---------------------------------------------------------------- resolution


def test_every_role_resolves_to_the_free_set(fonts_env: Path) -> None:
    started = time.perf_counter()
    fs = load_fontset()
    elapsed = time.perf_counter() - started
    print(f"load_fontset (5 roles, parse + register): {elapsed:.3f} s")
    for role, family in FREE_FAMILIES.items():
        face = fs.face(role)
        assert (face.family, face.source, face.role) == (family, "free", role)
        assert face.has("中") and face.has(" ") and face.has("\u3000")
        assert not face.lacks(gb2312_hanzi())
    assert fs.optional_face("latin") is None
    with pytest.raises(FontError, match="西文"):
        fs.face("latin")
    assert load_fontset() is fs  # parsed once per process
    assert load_fontset({"仿宋": fs.face("仿宋").path}) is load_fontset({"fangsong": str(fs.face("fangsong").path)})


def test_missing_glyph_falls_back(fonts_env: Path) -> None:
    fs = load_fontset()
    body = fs.face("fangsong")
    assert not body.has("镕")  # a GBK name character Fandol lacks (research §1.1)
    assert fs.face_for_char("fangsong", "中") is body
    fallback = fs.face_for_char("fangsong", "镕")
    assert fallback is not None and fallback.role == "fallback" and fallback.family == "Docgen Fallback SC"
    assert fallback.advance("镕", 16) == 16.0
    for ch in "喆堃珺玥昇犇":
        assert fs.face_for_char("kaiti", ch) is not None
    assert fs.face_for_char("fangsong", "\U0002a6a5") is None  # CJK Ext-B: beyond GBK
    assert fs.missing("fangsong", "中镕\U0002a6a5中\U0002a6a5") == ["\U0002a6a5"]
    assert body.advance("中", 16) == 16.0 and body.advance("1", 16) == 8.0 and body.advance("\u3000", 16) == 16.0
    assert body.advance("\U0002a6a5", 16) == 0.0


def test_reportlab_pdf_embeds_subset_truetype_only(fonts_env: Path) -> None:
    fs = load_fontset()
    pdf = fonts_env / "roles.pdf"
    body = fs.face("fangsong")
    c = Canvas(str(pdf), initialFontName=body.rl_name, initialFontSize=16)
    y = 780.0
    for role in FREE_FAMILIES:
        c.setFont(fs.face(role).rl_name, 16)
        c.drawString(80, y, f"{role} 关于做好防汛工作的通知 2023")
        y -= 30
    c.setFont(fs.face_for_char("fangsong", "镕").rl_name, 16)
    c.drawString(80, y, "镕")
    # One page of body text, 22 lines × 28 字.
    c.showPage()
    c.setFont(body.rl_name, 16)
    text = (BODY * 20)[: 22 * 28]
    for line in range(22):
        c.drawString(79.4, 770 - line * 28.95, text[line * 28 : (line + 1) * 28])
    c.save()

    fonts = pdffonts(pdf)
    names = [f["name"] for f in fonts]
    assert not set(names) & BASE14 and not any(n.split("+")[-1] in BASE14 for n in names), names
    for f in fonts:
        assert "TrueType" in f["type"] and f["emb"] == "yes" and f["sub"] == "yes", f
        assert re.fullmatch(r"[A-Z]{6}\+\S+", f["name"]), f
    embedded = {n.split("+", 1)[1] for n in names}
    assert embedded == {
        "FandolFang-Regular",
        "FandolHei-Regular",
        "FandolKai-Regular",
        "FandolSong-Regular",
        "NotoSerifCJKsc-Bold",
        "DocgenFallbackSC-Regular",
    }
    with pdfplumber.open(pdf) as doc:
        assert {ch["fontname"].split("+", 1)[1] for ch in doc.pages[0].chars} == embedded
        assert "镕" in doc.pages[0].extract_text()  # ToUnicode: copy-paste works
    print(f"PDF: {pdf.stat().st_size / 1024:.0f} KB for 2 pages")


def test_cff_user_font_is_converted_once(fonts_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    otf = build_tiny_font(fonts_env / "user" / "MyFang.otf", "My Fang", cff=True)
    assert "CFF " in TTFont(otf)
    fs = load_fontset({"仿宋": otf})
    face = fs.face("fangsong")
    assert face.source == "option" and face.origin == otf and face.family == "My Fang"
    assert face.path.parent == fonts_env / "cache" / "docgen" / "fonts" and "glyf" in TTFont(face.path)
    assert face.has("仿") and not face.has("镕") and face.advance("仿", 16) == 16.0 and face.advance("A", 10) == 5.0
    stamp = face.path.stat().st_mtime_ns
    # Same file again (new process state, same cache): no second conversion.
    clear_cache()
    again = load_fontset({"fangsong": str(otf)}).face("fangsong")
    assert again.path == face.path and again.path.stat().st_mtime_ns == stamp
    # Other roles are untouched, and the fingerprint tells the two sets apart.
    assert fs.face("heiti").source == "free"
    assert fontset_fingerprint(fs) != fontset_fingerprint(load_fontset())
    assert fontset_fingerprint(load_fontset()) == fontset_fingerprint(load_fontset())


def test_config_file_and_ttc_index(fonts_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = build_tiny_font(fonts_env / "a.ttf", "Tiny Kai A")
    b = build_tiny_font(fonts_env / "b.ttf", "Tiny Kai B")
    coll = TTCollection()
    coll.fonts = [TTFont(a), TTFont(b)]
    (fonts_env / "fonts").mkdir()
    coll.save(str(fonts_env / "fonts" / "pair.ttc"))
    config = fonts_env / "conf" / "fonts.yaml"
    config.parent.mkdir()
    config.write_text("楷体: ../fonts/pair.ttc#1\nxiaobiaosong:\n", encoding="utf-8")
    monkeypatch.setenv("DOCGEN_FONTS_CONFIG", str(config))
    fs = load_fontset()
    kai = fs.face("楷体")
    assert (kai.family, kai.source, kai.index) == ("Tiny Kai B", "config", 1)
    assert fs.face("xiaobiaosong").source == "free"  # empty entry: next source
    # An explicit option beats the config file.
    assert load_fontset({"kaiti": f"{fonts_env / 'fonts' / 'pair.ttc'}#0"}).face("kaiti").family == "Tiny Kai A"
    with pytest.raises(FontError, match=r"只有 2 个字面"):
        load_fontset({"kaiti": f"{fonts_env / 'fonts' / 'pair.ttc'}#5"})
    config.write_text("魏碑: /x.ttf\n", encoding="utf-8")
    with pytest.raises(FontError, match=str(config)):
        load_fontset()


@pytest.mark.parametrize("fs_type", [0x0002, 0x0100, 0x0200])
def test_embedding_forbidden_font_is_refused(fonts_env: Path, fs_type: int) -> None:
    bad = build_tiny_font(fonts_env / f"Locked{fs_type}.ttf", "Locked Song", fs_type=fs_type)
    with pytest.raises(FontError) as err:
        load_fontset({"宋体": bad})
    assert str(bad) in str(err.value) and "不允许嵌入" in str(err.value)
    result = CliRunner().invoke(fonts_cli, ["--font", f"宋体={bad}"])
    assert result.exit_code == 2 and str(bad) in result.output
    # Editable (0x0008) and installable (0) fonts are fine.
    ok = build_tiny_font(fonts_env / "Open.ttf", "Open Song", fs_type=0x0008)
    assert load_fontset({"songti": ok}).face("songti").family == "Open Song"


def test_system_font_needs_the_exact_family(
    installed: inst.InstallResult, fonts_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sysdir = fonts_env / "system-fonts"
    build_tiny_font(sysdir / "simfang.ttf", "仿宋_GB2312")
    build_tiny_font(sysdir / "near.ttf", "黑体 Light")  # not exactly 黑体: ignored
    monkeypatch.setenv("FONTCONFIG_FILE", str(isolated_fontconfig(fonts_env, [sysdir])))
    clear_cache()
    fs = load_fontset()
    face = fs.face("fangsong")
    assert (face.family, face.source, face.path) == ("仿宋_GB2312", "system", sysdir / "simfang.ttf")
    assert fs.face("heiti").source == "free"
    # <accept> alias: a real 仿宋_GB2312 wins over FandolFang for fontconfig clients too.
    match = subprocess.run(["fc-match", "-f", "%{file}", "仿宋_GB2312"], capture_output=True, text=True)
    assert match.stdout == str(sysdir / "simfang.ttf")
    rows = {r["role"]: r for r in fs.describe()}
    assert rows["fangsong"]["source_zh"] == "系统字体" and rows["fangsong"]["missing_gb2312"] > 6000


# ---------------------------------------------------------------- CLI


def test_fonts_table_and_unresolved_roles(fonts_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(fonts_cli, [])
    assert result.exit_code == 0, result.output
    for zh, family in zip(("仿宋", "黑体", "楷体", "宋体", "小标宋"), FREE_FAMILIES.values(), strict=True):
        assert re.search(rf"{zh} \w+\s+{family}\s+免费字体集", result.output), result.output
    assert "Docgen Fallback SC" in result.output

    monkeypatch.setenv("DOCGEN_FONT_DIR", str(tmp_path / "empty"))
    clear_cache()
    result = CliRunner().invoke(fonts_cli, [])
    assert result.exit_code == 2
    assert "docgen fonts install" in result.output and "--font 仿宋=/path/file.ttf" in result.output
    with pytest.raises(FontError, match="docgen fonts install"):
        load_fontset().face("仿宋")


# ---------------------------------------------------------------- .docx


def _docx_with_roles(path: Path) -> None:
    document = docx.Document()
    clean_docx_fonts(document, "仿宋_GB2312", 32, extra_families=["黑体", "楷体_GB2312", "方正小标宋简体", "宋体"])
    for family, text in [
        ("方正小标宋简体", "关于做好防汛工作的通知"),
        ("黑体", "一、提高认识"),
        ("楷体_GB2312", "（一）压实责任"),
        ("仿宋_GB2312", BODY),
        ("宋体", "— 1 —"),
    ]:
        run = document.add_paragraph().add_run(text)
        set_run_fonts(run, family)
    document.save(str(path))


def test_docx_has_no_theme_fonts(tmp_path: Path) -> None:
    path = tmp_path / "roles.docx"
    _docx_with_roles(path)
    banned = re.compile(
        r"Calibri|Cambria|等线|MS 明朝|ＭＳ 明朝|ＭＳ ゴシック|MS Mincho|asciiTheme|eastAsiaTheme|hAnsiTheme|cstheme"
    )
    with zipfile.ZipFile(path) as z:
        parts = [n for n in z.namelist() if n.endswith((".xml", ".rels"))]
        assert "word/theme/theme1.xml" in parts and "word/stylesWithEffects.xml" not in parts
        for name in parts:
            text = z.read(name).decode("utf-8")
            assert not banned.search(text), f"{name}: {banned.search(text)[0]}"
        styles = z.read("word/styles.xml").decode()
        settings = z.read("word/settings.xml").decode()
    assert re.search(
        r'<w:rPrDefault><w:rPr><w:rFonts w:ascii="仿宋_GB2312" w:hAnsi="仿宋_GB2312" '
        r'w:eastAsia="仿宋_GB2312" w:cs="仿宋_GB2312"/><w:sz w:val="32"/><w:szCs w:val="32"/>'
        r'<w:lang w:val="zh-CN" w:eastAsia="zh-CN"',
        styles,
    ), styles[:2000]
    assert 'w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"' in settings
    reopened = docx.Document(str(path))  # still a valid package
    runs = [p.runs[0] for p in reopened.paragraphs if p.runs]
    assert runs[1]._r.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"


def test_set_run_fonts_with_latin_face() -> None:
    document = docx.Document()
    run = document.add_paragraph().add_run("2023年")
    run.bold = True
    rfonts = set_run_fonts(run, "仿宋_GB2312", "Times New Roman")
    attrs = {k.split("}")[1]: v for k, v in rfonts.attrib.items()}
    assert attrs == {
        "ascii": "Times New Roman",
        "hAnsi": "Times New Roman",
        "eastAsia": "仿宋_GB2312",
        "cs": "仿宋_GB2312",
        "hint": "eastAsia",
    }
    assert [c.tag.split("}")[1] for c in run._r.rPr] == ["rFonts", "b"]  # schema order
    style_rpr = document.styles["Normal"].element.get_or_add_rPr()
    set_run_fonts(style_rpr, "黑体")
    assert style_rpr.rFonts.get(qn("w:ascii")) == "黑体" and style_rpr.rFonts.get(qn("w:hint")) is None


def test_libreoffice_uses_the_free_set(installed: inst.InstallResult, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: cannot check the .docx side")
    src = tmp_path / "roles.docx"
    _docx_with_roles(src)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "FONTCONFIG_FILE": str(isolated_fontconfig(tmp_path)),
    }
    proc = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = tmp_path / "roles.pdf"
    assert pdf.exists(), proc.stdout + proc.stderr
    names = {f["name"].split("+", 1)[-1] for f in pdffonts(pdf)}
    assert {"FandolFang-Regular", "FandolHei-Regular", "FandolKai-Regular", "FandolSong-Regular"} <= names, names
    assert any(n.startswith("NotoSerifCJK") and n.endswith("Bold") for n in names), names
    assert all(f["type"].endswith("TrueType") or "TrueType" in f["type"] for f in pdffonts(pdf))


def test_every_role_is_known_to_the_style_layer() -> None:
    from docgen.style import FONT_ROLES

    assert tuple(FONT_ROLES) == ROLES
