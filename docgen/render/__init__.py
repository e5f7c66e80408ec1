"""Renderers: draw a ``Layout`` as PDF (reportlab) or write it as .docx (python-docx)."""
