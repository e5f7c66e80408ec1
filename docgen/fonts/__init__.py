"""The font layer: roles (仿宋, 黑体, …) → font files, for the PDF and the .docx.

``load_fontset()`` resolves each role once per process (option → config file
→ installed Windows font → free set) and registers the TrueType files with
reportlab; ``docgen fonts install`` builds the free set; ``docx_fonts`` keeps
theme fonts out of the .docx.
"""

from docgen.fonts.resolve import (
    REQUIRED_ROLES,
    ROLE_ALIASES,
    ROLE_ZH,
    ROLES,
    FontFace,
    FontSet,
    clear_cache,
    fontset_fingerprint,
    load_fontset,
    normalize_role,
    parse_font_options,
)

__all__ = [
    "REQUIRED_ROLES",
    "ROLES",
    "ROLE_ALIASES",
    "ROLE_ZH",
    "FontFace",
    "FontSet",
    "clear_cache",
    "fontset_fingerprint",
    "load_fontset",
    "normalize_role",
    "parse_font_options",
]
