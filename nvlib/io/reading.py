"""Format detection, :func:`read_events` and the streaming :func:`iter_events`.

Formats (``format=`` names): ``"evt3"``, ``"evt2"`` (Prophesee ``.raw``), ``"dat"``
(legacy Prophesee), ``"aedat4"`` (iniVation), ``"aedat2"`` (v2e/jAER AEDAT-2.0),
``"v2e_h5"``, ``"v2e_text"`` and ``"cache"`` (nvlib). Detection looks at the magic
bytes / header first and the file extension second.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from nvlib.events import EVENT_DTYPE, Events, empty_events, pack_columns
from nvlib.io import aedat4 as _aedat4
from nvlib.io import cache as _cache
from nvlib.io import dat as _dat
from nvlib.io import evt2 as _evt2
from nvlib.io import evt3 as _evt3
from nvlib.io import v2e_formats as _v2e
from nvlib.io.errors import FORMAT_HINT, SENSOR_SIZE_HINT, FormatError
from nvlib.io.raw_header import read_header, resolve_size

READ_FORMATS = ("evt3", "evt2", "dat", "aedat4", "aedat2", "v2e_h5", "v2e_text", "cache")
CHUNK_BYTES = 8 << 20
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _check_file(path: Path) -> None:
    """FileNotFoundError / IsADirectoryError naming ``path`` unless it is an existing file."""
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not an event file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such event file")


def detect_format(path) -> str:
    """The format name of ``path`` from its content (and extension where content is ambiguous)."""
    path = Path(path)
    _check_file(path)
    size = path.stat().st_size
    if size == 0:
        raise FormatError(path, 0, "the file is empty; expected an event file header or data")
    with open(path, "rb") as f:
        head = f.read(64)
        if head.startswith(_cache.MAGIC):
            return "cache"
        if head.startswith(_aedat4.MAGIC):
            return "aedat4"
        if head.startswith(b"#!AER-DAT2"):
            return "aedat2"
        if head.startswith(_HDF5_MAGIC):
            return "v2e_h5"
        ext = path.suffix.lower()
        if head.startswith(b"%"):
            hdr = read_header(f)
            name = hdr.format_name
            if name in ("EVT3", "EVT2"):
                return name.lower()
            if name is not None:
                raise FormatError(path, 0, f"unsupported RAW encoding {name!r}; expected EVT 3.0 or EVT 2.0")
            if ext == ".dat" or hdr.get("Version") is not None or any("Data file" in ln for ln in hdr.lines):
                return "dat"
            raise FormatError(path, 0, "a '%' header without an 'evt'/'format' entry: cannot tell EVT 2.0 from "
                              f"EVT 3.0; {FORMAT_HINT}")
    if ext == ".dat":
        return "dat"
    if ext == ".aedat4":  # a damaged magic is reported by the AEDAT4 checks, with its byte offset
        return "aedat4"
    if ext in (".txt", ".csv") or head[:1] in b"#0123456789":
        return "v2e_text"
    raise FormatError(path, 0, f"unknown event file format (first bytes {head[:8]!r}); expected one of "
                      f"{READ_FORMATS}")


def _raw_setup(path, sensor_size, fmt):
    with open(path, "rb") as f:
        hdr = read_header(f)
        start = hdr.data_offset
        peek = f.read(2)
        rest = f.read(_MAX_PEEK)
    if not hdr.has_end and peek == b"% " and b"\n" not in rest:
        raise FormatError(path, start, "expected a header line ending in a newline, found a truncated header")
    size = resolve_size(hdr, sensor_size, path, start)
    return hdr, start, size


_MAX_PEEK = 4096


def _iter_raw_bytes(path, start, chunk_bytes):
    with open(path, "rb") as f:
        f.seek(start)
        while True:
            data = f.read(chunk_bytes)
            if not data:
                return
            yield data


def iter_chunks(path, *, sensor_size=None, format=None, chunk_bytes: int = CHUNK_BYTES, **options):
    """``((W, H), iterator of (x, y, t, p) column chunks)`` for any supported file, in file order."""
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt not in READ_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {READ_FORMATS}")
    _check_file(path)
    if path.stat().st_size == 0:
        raise FormatError(path, 0, "the file is empty; expected an event file header or data")
    if options:
        raise TypeError(f"unexpected options for {fmt}: {sorted(options)}")
    chunk_bytes = max(8, int(chunk_bytes) & ~7)
    if fmt in ("evt3", "evt2"):
        hdr, start, size = _raw_setup(path, sensor_size, fmt)
        if fmt == "evt3" and _evt3_file_regular(path, start, chunk_bytes):
            return size, _evt3_package_chunks(path, start, size, chunk_bytes)
        dec = (_evt3.Evt3Decoder if fmt == "evt3" else _evt2.Evt2Decoder)(size, path, start)

        def gen():
            for data in _iter_raw_bytes(path, start, chunk_bytes):
                yield dec.feed(data)
            dec.finish()
        return size, gen()
    if fmt == "dat":
        with open(path, "rb") as f:
            hdr = read_header(f)
            start = hdr.data_offset
            _dat.check_type_bytes(f.read(2), path, start)
        declared = hdr.declared_size()
        size = tuple(sensor_size) if sensor_size is not None else declared
        n_bytes = path.stat().st_size - start - 2
        if n_bytes % 8:
            raise FormatError(path, start + 2 + (n_bytes // 8) * 8, f"expected whole 8-byte DAT records, found "
                              f"{n_bytes % 8} trailing byte(s) (truncated file)")
        if size is None:
            # no geometry anywhere: use the bounding box of the coordinates (one extra pass)
            mx = my = 0
            for data in _iter_raw_bytes(path, start + 2, chunk_bytes):
                x, y, _, _ = _dat.decode_dat_records(data, None)
                if x.size:
                    mx, my = max(mx, int(x.max())), max(my, int(y.max()))
            size = (mx + 1, my + 1)
            warnings.warn(f"{path}: the DAT header declares no geometry; using the events' bounding box {size}. "
                          f"To set it, {SENSOR_SIZE_HINT}.", stacklevel=3)

        def gen():
            off = start + 2
            for data in _iter_raw_bytes(path, start + 2, chunk_bytes):
                yield _dat.decode_dat_records(data, size, path, off)
                off += len(data)
        return size, gen()
    if fmt == "aedat2":
        with open(path, "rb") as f:
            pos = 0
            while True:
                line = f.readline(1 << 16)
                if not line.startswith(b"#"):
                    break
                pos = f.tell()
        size = tuple(sensor_size) if sensor_size is not None else (346, 260)
        n_bytes = path.stat().st_size - pos
        if n_bytes % 8:
            raise FormatError(path, pos + n_bytes - n_bytes % 8, "expected whole 8-byte AEDAT-2.0 records "
                              "(truncated file)")

        def gen():
            off = pos
            for data in _iter_raw_bytes(path, pos, chunk_bytes):
                yield _v2e.decode_aedat2(data, size, path, off)
                off += len(data)
        return size, gen()
    if fmt == "aedat4":
        sid, size = _aedat4.aedat4_info(path)
        size = tuple(sensor_size) if sensor_size is not None else size
        return size, _aedat4.iter_aedat4(path, size)
    if fmt == "v2e_h5":
        return _h5_chunks(path, sensor_size, chunk_bytes)
    if fmt == "v2e_text":
        return _text_chunks(path, sensor_size, chunk_bytes)
    cols, size = _cache.read_cache_columns(path, mmap=True)
    size = tuple(sensor_size) if sensor_size is not None else size
    step = max(1, chunk_bytes // 13)

    def gen():
        n = cols["x"].shape[0]
        for i in range(0, n, step):
            yield tuple(np.asarray(cols[c][i:i + step]) for c in ("x", "y", "t", "p"))
    return size, gen()


def _h5_chunks(path, sensor_size, chunk_bytes):
    import h5py
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise FormatError(path, 0, f"expected a readable HDF5 file: {e}") from e
    with f:
        if "events" not in f or f["events"].ndim != 2 or f["events"].shape[1] != 4:
            raise FormatError(path, None, "expected an HDF5 dataset 'events' of shape (N, 4) [t_us, x, y, p]")
        n = f["events"].shape[0]
        attrs = dict(f.attrs)
    if sensor_size is not None:
        size = tuple(int(v) for v in sensor_size)
    elif "width" in attrs and "height" in attrs:
        size = (int(attrs["width"]), int(attrs["height"]))
    else:
        size = None
    step = max(1, chunk_bytes // 16)

    def raw():
        with h5py.File(path, "r") as fh:
            ds = fh["events"]
            for i in range(0, n, step):
                yield i, np.asarray(ds[i:i + step])

    if size is None:
        mx = my = 0
        for _, a in raw():
            if a.size:
                mx, my = max(mx, int(a[:, 1].max())), max(my, int(a[:, 2].max()))
        size = (mx + 1, my + 1)
        warnings.warn(f"{path}: no sensor geometry stored; using the events' bounding box {size}. "
                      f"To set it, {SENSOR_SIZE_HINT}.", stacklevel=3)

    def gen():
        for i, a in raw():
            x, y, p = a[:, 1].astype(np.int64), a[:, 2].astype(np.int64), a[:, 3].astype(np.int64)
            bad = (x >= size[0]) | (y >= size[1]) | (p > 1)
            if bad.any():
                k = int(np.argmax(bad))
                raise FormatError(path, None, f"events row {i + k}: (x={x[k]}, y={y[k]}, p={p[k]}) is outside the "
                                  f"sensor (W={size[0]}, H={size[1]}) or not a 0/1 polarity")
            yield x.astype(np.int16), y.astype(np.int16), a[:, 0].astype(np.int64), p.astype(np.int8)
    return size, gen()


def _text_chunks(path, sensor_size, chunk_bytes):
    import pandas as pd
    comments = []
    with open(path, "rb") as f:
        for _ in range(100):
            line = f.readline()
            if not line.startswith(b"#"):
                break
            comments.append(line.decode("utf-8", "replace"))
    size = tuple(int(v) for v in sensor_size) if sensor_size is not None else _v2e.parse_text_size(comments)
    rows = max(1, chunk_bytes // 32)

    def frames():
        try:
            reader = pd.read_csv(path, sep=r"\s+", comment="#", header=None, names=["t", "x", "y", "p"],
                                 dtype={"t": np.float64, "x": np.int64, "y": np.int64, "p": np.int64},
                                 chunksize=rows, engine="c")
            row0 = 0
            for df in reader:
                if df.isna().any().any():
                    raise ValueError("missing columns")
                yield row0, df
                row0 += len(df)
        except (ValueError, pd.errors.ParserError) as e:
            raise FormatError(path, None, f"expected 't x y p' text lines (t in seconds): {e}") from e

    if size is None:
        mx = my = 0
        for _, df in frames():
            if len(df):
                mx, my = max(mx, int(df["x"].max())), max(my, int(df["y"].max()))
        size = (mx + 1, my + 1)
        warnings.warn(f"{path}: no sensor geometry comment; using the events' bounding box {size}. "
                      f"To set it, {SENSOR_SIZE_HINT}.", stacklevel=3)

    def gen():
        for row0, df in frames():
            x, y, p = df["x"].to_numpy(), df["y"].to_numpy(), df["p"].to_numpy()
            p = np.where(p < 0, 0, p)
            bad = (x < 0) | (y < 0) | (x >= size[0]) | (y >= size[1]) | (p > 1)
            if bad.any():
                k = int(np.argmax(bad))
                raise FormatError(path, None, f"text event {row0 + k}: (x={x[k]}, y={y[k]}, p={p[k]}) is outside "
                                  f"the sensor (W={size[0]}, H={size[1]}) or not a polarity in (-1, 0, 1)")
            t = np.rint(df["t"].to_numpy() * 1e6).astype(np.int64)
            yield x.astype(np.int16), y.astype(np.int16), t, p.astype(np.int8)
    return size, gen()


def _to_events(chunks, size) -> Events:
    chunks = [c for c in chunks if c[0].shape[0]]
    n = sum(c[0].shape[0] for c in chunks)
    arr = np.empty(n, EVENT_DTYPE)
    i = 0
    for x, y, t, p in chunks:
        k = x.shape[0]
        pack_columns(x, y, t, p, out=arr[i:i + k])
        i += k
    return Events(arr, size)


# ---- EVT 3.0 fast path through the evt3 package --------------------------------------------

def _evt3_regular(words: np.ndarray, path, offset: int) -> bool:
    """True when the ``evt3`` package decodes ``words`` exactly as the spec decoder does.

    Raises FormatError for reserved word types. The package differs from the spec decoder
    only on TIME_HIGH drops in [2048, 4085) (spec: wrap; package: none) and on events
    before their row/vector base is set (spec: dropped; package: row/base 0).
    """
    ty = (words >> 12).astype(np.uint8)
    reserved = (ty == 0x1) | (ty == 0x9) | ((ty >= 0xB) & (ty <= 0xD))
    if reserved.any():
        _evt3.decode_evt3_words(words, _evt3.Evt3State(), (4096, 4096), path, offset)  # raises at the word
    th_idx = np.flatnonzero(ty == 8)
    if th_idx.size == 0:
        return True
    th = (words[th_idx] & 0xFFF).astype(np.int64)
    drop = th[:-1] - th[1:]
    if np.any((drop >= 2048) & (drop < 4085)):
        return False
    t2 = ty[th_idx[0]:]
    ev = (t2 == 2) | (t2 == 4) | (t2 == 5)
    if ev.any():
        first_ev = int(np.argmax(ev))
        is_y = t2 == 0
        if not is_y.any() or int(np.argmax(is_y)) > first_ev:
            return False
    vec = (t2 == 4) | (t2 == 5)
    if vec.any():
        is_vb = t2 == 3
        if not is_vb.any() or int(np.argmax(is_vb)) > int(np.argmax(vec)):
            return False
    return True


def _evt3_file_regular(path, start: int, chunk_bytes: int) -> bool:
    """:func:`_evt3_regular` over a whole file, chunk by chunk (bounded memory).

    False when the ``evt3`` package is not installed or the stream has one of the
    irregularities on which it differs from the spec decoder (or a dangling byte,
    which the spec decoder reports).
    """
    try:
        import evt3  # noqa: F401
    except ImportError:
        return False
    last_th, seen_y, seen_vb, seen_th = None, False, False, False
    for data in _iter_raw_bytes(path, start, chunk_bytes):
        if len(data) % 2:
            return False
        words = np.frombuffer(data, "<u2")
        ty = (words >> 12).astype(np.uint8)
        if ((ty == 0x1) | (ty == 0x9) | ((ty >= 0xB) & (ty <= 0xD))).any():
            return False
        th_idx = np.flatnonzero(ty == 8)
        if th_idx.size:
            th = (words[th_idx] & 0xFFF).astype(np.int64)
            if last_th is not None:
                th = np.concatenate([[last_th], th])
            drop = th[:-1] - th[1:]
            if np.any((drop >= 2048) & (drop < 4085)):
                return False
            last_th = int(th[-1])
        if not seen_th:
            if not th_idx.size:
                continue
            ty = ty[th_idx[0]:]
            seen_th = True
        if not (seen_y and seen_vb):
            ev = (ty == 2) | (ty == 4) | (ty == 5)
            vec = (ty == 4) | (ty == 5)
            first_y = int(np.argmax(ty == 0)) if (ty == 0).any() else len(ty)
            first_vb = int(np.argmax(ty == 3)) if (ty == 3).any() else len(ty)
            if not seen_y and ev.any() and first_y > int(np.argmax(ev)):
                return False
            if not seen_vb and vec.any() and first_vb > int(np.argmax(vec)):
                return False
            seen_y = seen_y or first_y < len(ty)
            seen_vb = seen_vb or first_vb < len(ty)
    return True


def _evt3_package_chunks(path, start: int, size, chunk_bytes: int):
    """Column chunks from the ``evt3`` package's stateful decoder (regular streams only)."""
    import evt3 as _pkg

    dec = _pkg.Decoder(max(size[0], 1), max(size[1], 1))
    offset = start
    for data in _iter_raw_bytes(path, start, chunk_bytes):
        ev = dec.feed(data)
        if ev is not None and len(ev):
            if int(ev.x.max()) >= size[0] or int(ev.y.max()) >= size[1]:
                raise FormatError(path, offset, f"events outside the sensor geometry {size} in this chunk")
            yield (ev.x, ev.y, ev.t, ev.p)
        offset += len(data)
    dec.finish()


def _read_evt3(path, sensor_size, backend: str) -> Events:
    hdr, start, size = _raw_setup(path, sensor_size, "evt3")
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    if len(data) % 2:
        raise FormatError(path, start + len(data) - 1, "expected a complete 16-bit EVT 3.0 word, found a dangling "
                          "byte at the end of the file")
    words = np.frombuffer(data, "<u2")
    if backend not in ("auto", "numpy", "evt3"):
        raise ValueError(f"backend must be 'auto', 'numpy' or 'evt3', got {backend!r}")
    use_pkg = backend == "evt3" or (backend == "auto" and _evt3_regular(words, path, start))
    if use_pkg:
        try:
            import evt3 as _pkg
        except ImportError:
            use_pkg = False
    if not use_pkg:
        cols, _ = _evt3.decode_evt3_words(words, _evt3.Evt3State(), size, path, start)
        return _to_events([cols], size)
    ev = _pkg.decode_bytes(data, sensor_width=max(size[0], 1), sensor_height=max(size[1], 1))
    n = len(ev)
    if n and (int(ev.x.max()) >= size[0] or int(ev.y.max()) >= size[1]):
        _evt3.decode_evt3_words(words, _evt3.Evt3State(), size, path, start)  # raises with the offset
        raise FormatError(path, start, f"events outside the sensor geometry {size}")
    return Events(pack_columns(ev.x, ev.y, ev.t, ev.p), size)


def read_events(path, *, sensor_size=None, format: str | None = None, **options) -> Events:
    """Read a whole event file into :class:`~nvlib.events.Events` (file order, t in us).

    Args:
        path: the file; its format is detected from content and extension unless
            ``format`` is one of :data:`READ_FORMATS`.
        sensor_size: ``(W, H)``, overriding the geometry the file declares (needed for
            old-style RAW headers without a known ``plugin_name``).
        options: ``backend`` for EVT 3.0: ``"auto"`` (default; the ``evt3`` package when it
            decodes the stream exactly as the spec decoder, else the numpy decoder),
            ``"numpy"`` or ``"evt3"``; ``mmap`` for caches; ``chunk_bytes``.

    Raises:
        FormatError: malformed content (names the file, byte offset and what was expected).
    """
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt == "evt3":
        backend = options.pop("backend", "auto")
        options.pop("chunk_bytes", None)
        if options:
            raise TypeError(f"unexpected options for evt3: {sorted(options)}")
        return _read_evt3(path, sensor_size, backend)
    if fmt == "cache":
        mmap = options.pop("mmap", True)
        if options:
            raise TypeError(f"unexpected options for cache: {sorted(options)}")
        ev = _cache.read_cache(path, mmap=mmap)
        return ev if sensor_size is None else Events(ev.array, tuple(sensor_size)).validate(str(path))
    size, chunks = iter_chunks(path, sensor_size=sensor_size, format=fmt, **options)
    return _to_events(list(chunks), size)


def iter_events(path, window_us: int, *, sensor_size=None, format: str | None = None, start_us: int | None = None,
                chunk_bytes: int = CHUNK_BYTES, **options) -> Iterator[Events]:
    """Stream a file as consecutive time windows ``[t0 + k*window_us, t0 + (k+1)*window_us)``.

    ``t0`` is ``start_us`` or the first event's time; every window up to the last event
    is yielded (empty ones included), so window ``k`` always covers the same span.
    Memory stays bounded by ``chunk_bytes`` of input plus one window of events.
    Events are cut in file order using the running maximum of t, so a stream whose
    time steps back slightly keeps those events in the window where they appear.
    """
    window_us = int(window_us)
    if window_us <= 0:
        raise ValueError(f"window_us must be positive, got {window_us}")
    size, chunks = iter_chunks(path, sensor_size=sensor_size, format=format, chunk_bytes=chunk_bytes, **options)
    pending = np.empty(0, EVENT_DTYPE)
    pending_max = np.empty(0, np.int64)  # running maximum of t, in file order
    t0 = None if start_us is None else int(start_us)
    run_max = None
    w_start = None
    for cols in chunks:
        if cols[0].shape[0] == 0:
            continue
        part = _to_events([cols], size).array
        cm = np.maximum.accumulate(part["t"])
        if run_max is not None:
            np.maximum(cm, run_max, out=cm)
        run_max = int(cm[-1])
        if t0 is None:
            t0 = int(part["t"][0])
        if w_start is None:
            w_start = t0
        if cm[0] < t0:  # events before the requested start
            keep = cm >= t0
            part, cm = part[keep], cm[keep]
        pending = np.concatenate([pending, part]) if pending.size else part
        pending_max = np.concatenate([pending_max, cm]) if pending_max.size else cm
        while pending.size and w_start + window_us <= run_max:
            cut = int(np.searchsorted(pending_max, w_start + window_us, side="left"))
            yield Events(pending[:cut].copy(), size)
            pending, pending_max = pending[cut:], pending_max[cut:]
            w_start += window_us
    if pending.size:
        yield Events(pending.copy(), size)
