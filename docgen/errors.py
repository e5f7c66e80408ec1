"""User-facing errors: each names where the problem is and what was expected.

The CLI prints these without a traceback and exits with code 2.
"""

from __future__ import annotations

from docgen.model import Loc


class DocgenError(Exception):
    """An error a user can fix: bad input, a missing file, a missing font."""

    exit_code = 2

    def __init__(self, message: str, loc: Loc | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.field = field

    def __str__(self) -> str:
        where = str(self.loc) if self.loc else ""
        if self.field:
            where = f"{where}: {self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message


class FontError(DocgenError):
    """A font role cannot be served, or a font file is unusable."""
