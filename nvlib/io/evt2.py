"""Prophesee EVT 2.0 ``.raw`` files: a vectorised numpy decoder and an encoder.

EVT 2.0 (Prophesee, "EVT 2.0 format") uses 32-bit little-endian words, the type
in bits 31..28: 0x0 CD_OFF / 0x1 CD_ON (``[27:22]`` low 6 bits of t, ``[21:11]``
x, ``[10:0]`` y), 0x8 TIME_HIGH (``[27:0]`` = t >> 6), 0xA EXT_TRIGGER, 0xE
OTHERS, 0xF CONTINUED (the last three are skipped). Events before the first
TIME_HIGH are dropped. TIME_HIGH is 28 bits (t up to 2**34 us, ~4.8 h); a drop
of 2**27 or more counts a wrap. Reserved types, coordinates outside the sensor
and trailing partial words raise :class:`~nvlib.io.errors.FormatError`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nvlib.io.errors import FormatError
from nvlib.io.words import WordStreamDecoder

TH_BITS = 28
LOOP_US = 1 << (TH_BITS + 6)
_VALID = np.zeros(16, dtype=bool)
_VALID[[0x0, 0x1, 0x8, 0xA, 0xE, 0xF]] = True


@dataclass(frozen=True)
class Evt2State:
    """Decoder state between chunks."""

    started: bool = False
    loops: int = 0
    th: int = 0


def decode_evt2_words(words: np.ndarray, state: Evt2State, sensor_size, path=None, offset: int = 0):
    """Decode a chunk of EVT 2.0 uint32 words; returns ``((x int16, y int16, t int64, p int8), new_state)``."""
    w = np.asarray(words, dtype=np.uint32)
    empty = (np.empty(0, np.int16), np.empty(0, np.int16), np.empty(0, np.int64), np.empty(0, np.int8))
    if w.size == 0:
        return empty, state
    ty = (w >> 28).astype(np.uint8)
    bad = ~_VALID[ty]
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(path, offset + 4 * i, f"expected an EVT 2.0 word, found reserved type 0x{int(ty[i]):X} "
                          f"(word 0x{int(w[i]):08X})")
    th_idx = np.flatnonzero(ty == 8)
    if not state.started:
        if th_idx.size == 0:
            return empty, state
        f = int(th_idx[0])
        w, ty, th_idx, offset = w[f:], ty[f:], th_idx - f, offset + 4 * f
        state = Evt2State(True, state.loops, int(w[0]) & 0x0FFFFFFF)
    th_vals = (w[th_idx] & 0x0FFFFFFF).astype(np.int64)
    prev = np.concatenate(([state.th], th_vals[:-1]))
    loops = state.loops + np.cumsum((prev - th_vals) >= (1 << (TH_BITS - 1)))
    base = np.concatenate(([(state.loops << TH_BITS) + state.th], (loops << TH_BITS) + th_vals)) << 6
    ev_idx = np.flatnonzero(ty <= 1)
    r = np.searchsorted(th_idx, ev_idx, side="right")
    ev = w[ev_idx]
    t = base[r] + ((ev >> 22) & 0x3F).astype(np.int64)
    x = ((ev >> 11) & 0x7FF).astype(np.int16)
    y = (ev & 0x7FF).astype(np.int16)
    p = ty[ev_idx].view(np.int8)  # types 0 (CD_OFF) and 1 (CD_ON) are the polarity
    width, height = sensor_size
    out = (x >= width) | (y >= height)
    if out.any():
        k = int(np.argmax(out))
        raise FormatError(path, offset + 4 * int(ev_idx[k]), f"event at (x={int(x[k])}, y={int(y[k])}) lies outside "
                          f"the declared sensor geometry (W={width}, H={height})")
    new_state = Evt2State(True, int(loops[-1]) if th_vals.size else state.loops,
                          int(th_vals[-1]) if th_vals.size else state.th)
    return (x, y, t, p), new_state


class Evt2Decoder(WordStreamDecoder):
    """Streaming EVT 2.0 decoder: feed byte chunks of any length, get ``(x, y, t, p)`` column tuples."""

    WORD_BYTES = 4
    DTYPE = "<u4"
    FORMAT_NAME = "EVT 2.0"
    STATE = Evt2State
    decode = staticmethod(decode_evt2_words)


def _th_path(prev_abs: int, cur_abs: int, bits: int) -> list:
    """TIME_HIGH values leading from absolute counter ``prev_abs`` (-1: none) to ``cur_abs``.

    Within one loop a single word suffices; each loop crossed is marked by the
    maximum value followed by 0, which any wrap rule counts as one wrap.
    """
    top = (1 << bits) - 1
    lp, lc = max(prev_abs, 0) >> bits, cur_abs >> bits
    if prev_abs >= 0 and lp == lc:
        return [cur_abs & top]
    if prev_abs < 0 and lc == 0:
        return [cur_abs & top]
    seq = []
    if prev_abs < 0 or (prev_abs & top) != top:
        seq.append(top)
    for k in range(lp + 1, lc + 1):
        seq.append(0)
        if k < lc:
            seq.append(top)
    if cur_abs & top:
        seq.append(cur_abs & top)
    return seq


def encode_evt2_words(x, y, t, p, state: dict | None = None):
    """Encode events (sorted by t) as EVT 2.0 words; returns ``(uint32 words, state)``.

    A TIME_HIGH word precedes each event whose ``t >> 6`` differs from the previous one.
    """
    x = np.asarray(x, np.uint32)
    y = np.asarray(y, np.uint32)
    t = np.asarray(t, np.int64)
    p = np.asarray(p, np.uint32)
    st = dict(state or {"abs_th": None})
    n = t.size
    if n == 0:
        return np.empty(0, np.uint32), st
    abs_th = t >> 6
    prev = np.empty(n, np.int64)
    prev[1:] = abs_th[:-1]
    prev[0] = -1 if st["abs_th"] is None else st["abs_th"]
    n_th = (abs_th != prev).astype(np.int64)
    lists = {}
    for i in np.flatnonzero((abs_th >> TH_BITS) != (np.maximum(prev, 0) >> TH_BITS)):
        seq = _th_path(int(prev[i]), int(abs_th[i]), TH_BITS)
        lists[int(i)] = seq
        n_th[i] = len(seq)
    n_words = n_th + 1
    start = np.cumsum(n_words) - n_words
    out = np.empty(int(n_words.sum()), np.uint32)
    simple = n_th == 1
    simple[list(lists)] = False
    out[start[simple]] = (0x8 << 28) | (abs_th[simple] & 0x0FFFFFFF).astype(np.uint32)
    for i, seq in lists.items():
        out[start[i]:start[i] + len(seq)] = [(0x8 << 28) | v for v in seq]
    out[start + n_th] = (p << 28) | ((t & 0x3F).astype(np.uint32) << 22) | (x << 11) | y
    return out, {"abs_th": int(abs_th[-1])}


def header_bytes(sensor_size) -> bytes:
    """A new-style EVT 2.0 header for a ``(W, H)`` sensor."""
    w, h = int(sensor_size[0]), int(sensor_size[1])
    return (f"% camera_integrator_name nvlib\n% evt 2.0\n% format EVT2;height={h};width={w}\n"
            f"% geometry {w}x{h}\n% generation nvlib\n% end\n").encode("ascii")
