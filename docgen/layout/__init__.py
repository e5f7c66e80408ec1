"""Layout: a ``Document`` and a ``Style`` to a ``Layout`` (rows for the .docx, pages for the PDF).

flow (what goes where, vertical distances) → linebreak (lines with 避头尾)
→ pages (pagination, 版记, page numbers). Renderers only draw the result.
"""

from __future__ import annotations

from docgen.fonts import FontSet
from docgen.layout.boxes import Layout
from docgen.layout.flow import FlowBuilder
from docgen.layout.pages import Paginator
from docgen.layout.shaping import Shaper
from docgen.model import Document
from docgen.style import Style


def layout_document(doc: Document, style: Style, fonts: FontSet) -> Layout:
    latin = "latin" if fonts.optional_face("latin") is not None and "latin" in style.docx_fonts else None
    grid = style.grid
    shaper = Shaper(
        fonts, float(grid.char_spacing_pt), float(grid.autospace_pt), float(grid.script_boundary_pt), latin
    )
    flow = FlowBuilder(doc, style, shaper).build()
    paginator = Paginator(style, shaper, fonts)
    paginator.new_page()
    placed = list(flow.main)
    paginator.place(flow.main)
    for attachment in flow.attachments:
        paginator.place(attachment)
        placed += attachment
    unnumbered = paginator.place_colophon(flow.colophon, placed) if flow.colophon else None
    paginator.number_pages()
    return Layout(pages=paginator.pages, rows=placed, warnings=shaper.warnings, unnumbered_from=unnumbered)
