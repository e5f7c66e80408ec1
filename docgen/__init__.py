"""docgen: YAML to GB/T 9704-2012 公文 as .docx and PDF from one layout."""

__version__ = "0.2.0"
