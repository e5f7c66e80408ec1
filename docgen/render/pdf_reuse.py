"""Reusing reportlab's font subsets across the documents of one process.

reportlab builds and zlib-compresses a TrueType subset of every font for
every PDF; documents of a batch share most of their subsets, and the work
was half of each PDF's time. ``install()`` keeps recent results of both
steps, keyed by their input, so the bytes written are exactly what reportlab
would write. The caches are bounded (least recently used first out), to keep
a worker well under its memory budget. ``install()`` also formats the
subsets' Widths arrays at once rather than number by number, again to the
same bytes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import OrderedDict
from typing import Any

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, ttfonts

MAX_BYTES = 24 * 1024 * 1024  # per cache: a batch reuses a few MB of subsets; keep workers far from 300 MB


class _LRU:
    def __init__(self, max_bytes: int) -> None:
        self.items: OrderedDict[Any, bytes] = OrderedDict()
        self.size = 0
        self.max_bytes = max_bytes

    def get(self, key: Any) -> bytes | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: Any, value: bytes) -> None:
        self.items[key] = value
        self.size += len(value)
        while self.size > self.max_bytes and self.items:
            _, dropped = self.items.popitem(last=False)
            self.size -= len(dropped)


class _ReusingZCompress(pdfdoc.PDFStreamFilterZCompress):
    """reportlab's Flate filter, remembering what it compressed."""

    def __init__(self) -> None:
        self.cache = _LRU(MAX_BYTES)

    def encode(self, text: str | bytes) -> bytes:
        data = text.encode("utf8") if isinstance(text, str) else text
        key = hashlib.sha256(data).digest()
        encoded = self.cache.get(key)
        if encoded is None:
            encoded = zlib.compress(data)
            self.cache.put(key, encoded)
        return encoded


def _format_whole_numbers(array_format: Any) -> Any:
    """PDFArray.format with integers formatted at once: every font subset's Widths is
    an array of up to 256 integers, which reportlab formats one by one through a
    text codec (a third of writing the file). Same bytes: ``%d`` numbers, ten to a
    line, as reportlab lays out arrays when ``pdfMultiLine`` is off."""

    def format_array(array: pdfdoc.PDFArray, document: Any, *args: Any) -> bytes:
        numbers = array.sequence
        if (
            rl_config.pdfMultiLine or array.multiline == "forced"
            or not numbers or any(type(n) is not int for n in numbers)
        ):
            return array_format(array, document, *args)
        lines = [b" ".join(b"%d" % n for n in numbers[i : i + 10]) for i in range(0, len(numbers), 10)]
        return b"[ " + b" \n  ".join(lines) + b" ]"

    return format_array


_subsets = _LRU(MAX_BYTES)
_installed = False


def install() -> None:
    """Put the reusing filter and subsetter in place (once per process)."""
    global _installed
    if _installed:
        return
    make_subset = ttfonts.TTFontFace.makeSubset

    def reusing_make_subset(face: ttfonts.TTFontFace, subset: list[int]) -> bytes:
        key = (face.filename, getattr(face, "subfontNameX", b""), tuple(subset))
        data = _subsets.get(key)
        if data is None:
            data = make_subset(face, subset)
            _subsets.put(key, data)
        return data

    ttfonts.TTFontFace.makeSubset = reusing_make_subset
    # reportlab looks the filter up as pdfdoc.PDFZCompress each time it writes a stream.
    pdfdoc.PDFZCompress = _ReusingZCompress()
    pdfdoc.PDFArray.format = _format_whole_numbers(pdfdoc.PDFArray.format)
    _installed = True
