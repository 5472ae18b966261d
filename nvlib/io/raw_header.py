"""ASCII headers of Prophesee ``.raw`` and legacy ``.dat`` files.

Both start with ``% key value`` text lines. New-style RAW headers (Metavision >= 2.x)
declare ``% format EVT3;height=720;width=1280`` and end with ``% end``; old-style
headers have ``% evt 3.0`` and neither, so the data starts at the first line that
does not begin with ``% ``. Geometry comes, in order of precedence, from the
caller's ``sensor_size``, the ``format`` options, a ``geometry WxH`` entry,
``Width``/``Height`` entries, or the camera plugin name (``gen3*`` -> 640x480,
``gen4*``/``imx636`` -> 1280x720), following Prophesee's RAW file documentation.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from nvlib.io.errors import SENSOR_SIZE_HINT, FormatError

_MAX_LINE = 4096  # a header line longer than this is data, not header
_PRINTABLE = re.compile(rb"^[\x09\x20-\x7e\x80-\xff]*\r?\n$")


@dataclass(frozen=True)
class RawHeader:
    """A parsed ``% key value`` header.

    Attributes:
        entries: key -> value (last occurrence wins), keys as written.
        lines: the header lines without the leading ``% `` and the newline.
        data_offset: byte offset of the first data byte.
        has_end: True when the header ended with ``% end`` (new style).
    """

    entries: dict = field(default_factory=dict)
    lines: tuple = ()
    data_offset: int = 0
    has_end: bool = False

    def get(self, key: str, default=None):
        """Case-insensitive lookup of ``key``."""
        low = key.lower()
        for k, v in self.entries.items():
            if k.lower() == low:
                return v
        return default

    @property
    def format_name(self) -> str | None:
        """``"EVT3"``, ``"EVT2"``, ... from ``% format NAME;...`` or ``% evt X.Y``; None if absent."""
        fmt = self.get("format")
        if fmt:
            return fmt.split(";")[0].strip().upper()
        evt = self.get("evt")
        if evt:
            return {"3.0": "EVT3", "2.0": "EVT2", "2.1": "EVT21"}.get(evt.strip(), f"evt {evt.strip()}")
        return None

    @property
    def format_options(self) -> dict:
        """``key=value`` options after the format name (e.g. ``height``, ``width``)."""
        fmt = self.get("format") or ""
        out = {}
        for part in fmt.split(";")[1:]:
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip().lower()] = v.strip()
        return out

    def declared_size(self) -> tuple[int, int] | None:
        """``(W, H)`` declared by the header, or None."""
        opts = self.format_options
        try:
            if "width" in opts and "height" in opts:
                return int(opts["width"]), int(opts["height"])
            geo = self.get("geometry")
            if geo:
                m = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", geo)
                if m:
                    return int(m.group(1)), int(m.group(2))
            w, h = self.get("width"), self.get("height")
            if w is not None and h is not None:
                return int(w), int(h)
        except ValueError:
            return None
        plugin = (self.get("plugin_name") or "").lower()
        if "gen3" in plugin:
            return 640, 480
        if "gen4" in plugin or "imx636" in plugin:
            return 1280, 720
        return None


def read_header(f: BinaryIO) -> RawHeader:
    """Parse the header at the start of the open binary file ``f``; leaves ``f`` at the data."""
    f.seek(0)
    entries: dict = {}
    lines = []
    has_end = False
    while True:
        pos = f.tell()
        line = f.readline(_MAX_LINE)
        if not line.startswith(b"%") or not _PRINTABLE.match(line) or not (
                line.startswith(b"% ") or line.rstrip(b"\r\n") == b"%"):
            f.seek(pos)
            break
        text = line[1:].decode("utf-8", "replace").strip()
        lines.append(text)
        if text == "end":
            has_end = True
            break
        key, _, value = text.partition(" ")
        if key:
            entries[key] = value.strip()
    return RawHeader(entries, tuple(lines), f.tell(), has_end)


def resolve_size(header: RawHeader, sensor_size, path: str | os.PathLike, offset: int = 0) -> tuple[int, int]:
    """The geometry to decode with: ``sensor_size`` if given, else the header's; else FormatError."""
    if sensor_size is not None:
        w, h = int(sensor_size[0]), int(sensor_size[1])
    else:
        size = header.declared_size()
        if size is None:
            raise FormatError(path, offset, "the header declares no sensor geometry (no 'format ...;width=;height=', "
                              f"'geometry', 'Width/Height' or known plugin_name); {SENSOR_SIZE_HINT}")
        w, h = size
    if w <= 0 or h <= 0:
        raise FormatError(path, offset, f"expected a positive sensor geometry, got (W={w}, H={h})")
    return w, h
