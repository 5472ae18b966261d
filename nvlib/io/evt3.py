"""Prophesee EVT 3.0 ``.raw`` files: a vectorised numpy decoder and an encoder.

EVT 3.0 (Prophesee, "EVT 3.0 format" in the Metavision documentation) is a stream
of stateful 16-bit little-endian words, the type in bits 15..12:

=====  ============  ==========================================================
0x0    ADDR_Y        [10:0] y (sets the row)
0x2    ADDR_X        [10:0] x, [11] polarity: one event at (x, row)
0x3    VECT_BASE_X   [10:0] vector base x, [11] polarity
0x4    VECT_12       [11:0] mask: events at base + bit, then base += 12
0x5    VECT_8        [7:0] mask: events at base + bit, then base += 8
0x6    TIME_LOW      [11:0] bits 11..0 of t
0x8    TIME_HIGH     [11:0] bits 23..12 of t (resets TIME_LOW to 0)
0xA    EXT_TRIGGER   ignored;  0xE OTHERS, 0x7/0xF CONTINUED: ignored
=====  ============  ==========================================================

``t = loops * 2**24 + TIME_HIGH * 2**12 + TIME_LOW`` (microseconds); a wrap
(``loops += 1``) is counted when TIME_HIGH drops by 2048 or more (half the
12-bit range), so repeated TIME_HIGH words and TIME_LOW stepping back slightly
are not overflows. Words before the first TIME_HIGH are dropped, as are events
whose row (ADDR_Y) or vector base (VECT_BASE_X) has not been set since then.
Reserved word types (0x1, 0x9, 0xB, 0xC, 0xD), coordinates outside the sensor
and a dangling byte raise :class:`~nvlib.io.errors.FormatError`.

Note: the ``evt3`` package and OpenEB count a wrap only when TIME_HIGH drops by
at least 4085; both rules agree on every stream a sensor (or :func:`encode_evt3`)
produces, where TIME_HIGH steps by 0 or +1 and wraps from 4095 to 0.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from nvlib.io.errors import FormatError
from nvlib.io.words import WordStreamDecoder

LOOP_US = 1 << 24
_RESERVED = np.zeros(16, dtype=bool)
_RESERVED[[0x1, 0x9, 0xB, 0xC, 0xD]] = True
_POPCOUNT12 = np.array([bin(i).count("1") for i in range(4096)], dtype=np.int64)
_BITS12 = np.arange(12, dtype=np.uint16)


@dataclass(frozen=True)
class Evt3State:
    """Decoder state carried between chunks (``-1`` = not yet set)."""

    started: bool = False  # a TIME_HIGH has been seen
    loops: int = 0
    th: int = 0  # last TIME_HIGH value (12 bits)
    tl: int = 0  # TIME_LOW since the last TIME_HIGH
    y: int = -1
    base: int = -1  # current vector base x (after increments)
    vpol: int = 0


def _empty_cols():
    return (np.empty(0, np.int16), np.empty(0, np.int16), np.empty(0, np.int64), np.empty(0, np.int8))


def decode_evt3_words(words: np.ndarray, state: Evt3State, sensor_size, path=None, offset: int = 0):
    """Decode a chunk of EVT 3.0 words.

    Args:
        words: uint16 array (little-endian words already converted to native).
        state: :class:`Evt3State` before the chunk.
        sensor_size: ``(W, H)``; events outside raise FormatError.
        path, offset: file name and byte offset of ``words[0]`` (for messages).

    Returns:
        ``((x int16, y int16, t int64, p int8), new_state)``.
    """
    w = np.asarray(words, dtype=np.uint16)
    if w.size == 0:
        return _empty_cols(), state
    ty = w >> 12
    reserved = _RESERVED[ty]
    if reserved.any():
        i = int(np.argmax(reserved))
        raise FormatError(path, offset + 2 * i, f"expected an EVT 3.0 word, found reserved type 0x{int(ty[i]):X} "
                          f"(word 0x{int(w[i]):04X})")
    if not state.started:
        is_th0 = ty == 8
        if not is_th0.any():
            return _empty_cols(), state
        f = int(np.argmax(is_th0))
        w, ty, offset = w[f:], ty[f:], offset + 2 * f
        th0 = int(w[0]) & 0xFFF
        state = Evt3State(True, state.loops, th0, 0, -1, -1, 0)

    payload = (w & 0xFFF).astype(np.int64)
    # --- time: TIME_HIGH base (with wraps) + TIME_LOW (reset by TIME_HIGH) ---
    is_th = ty == 8
    th_vals = payload[is_th]
    prev = np.empty_like(th_vals)
    if th_vals.size:
        prev[0] = state.th
        prev[1:] = th_vals[:-1]
    loops = state.loops + np.cumsum((prev - th_vals) >= 2048)
    th_base = np.empty(th_vals.size + 1, np.int64)
    th_base[0] = state.loops * LOOP_US + state.th * 4096
    th_base[1:] = loops * LOOP_US + th_vals * 4096
    is_tset = is_th | (ty == 6)
    tset_vals = np.empty(int(is_tset.sum()) + 1, np.int64)
    tset_vals[0] = state.tl
    tset_vals[1:] = np.where(is_th[is_tset], 0, payload[is_tset])
    # --- row and vector base ---
    is_y = ty == 0
    y_vals = np.empty(int(is_y.sum()) + 1, np.int64)
    y_vals[0] = state.y
    y_vals[1:] = payload[is_y] & 0x7FF
    is_vb = ty == 3
    is_v12 = ty == 4
    is_v8 = ty == 5
    inc = is_v12 * np.int64(12) + is_v8 * np.int64(8)
    csum = np.cumsum(inc)
    vb_base = np.empty(int(is_vb.sum()) + 1, np.int64)
    vb_base[0] = state.base
    vb_base[1:] = payload[is_vb] & 0x7FF
    vb_pol = np.empty_like(vb_base)
    vb_pol[0] = state.vpol
    vb_pol[1:] = payload[is_vb] >> 11
    vb_csum = np.empty_like(vb_base)
    vb_csum[0] = 0
    vb_csum[1:] = csum[is_vb]

    is_x = ty == 2
    is_vec = is_v12 | is_v8
    ev_idx = np.flatnonzero(is_x | is_vec)
    # ranks: number of setter words at or before each event word
    th_r = np.cumsum(is_th)[ev_idx]
    ts_r = np.cumsum(is_tset)[ev_idx]
    y_r = np.cumsum(is_y)[ev_idx]
    vb_r = np.cumsum(is_vb)[ev_idx]

    ev_ty = ty[ev_idx]
    ev_pl = payload[ev_idx]
    ev_isx = ev_ty == 2
    ev_t = th_base[th_r] + tset_vals[ts_r]
    ev_y = y_vals[y_r]
    vbase = vb_base[vb_r] + (csum[ev_idx] - inc[ev_idx]) - vb_csum[vb_r]
    known_base = vb_base[vb_r] >= 0
    ev_base = np.where(ev_isx, ev_pl & 0x7FF, vbase)
    ev_pol = np.where(ev_isx, ev_pl >> 11, vb_pol[vb_r])
    ev_mask = np.where(ev_isx, 1, np.where(ev_ty == 4, ev_pl, ev_pl & 0xFF))
    keep = (ev_y >= 0) & (ev_isx | known_base)

    # new state
    n_th = th_vals.size
    last_tset_is_th = bool(is_tset.any()) and bool(is_th[np.flatnonzero(is_tset)[-1]])
    new_tl = 0 if last_tset_is_th else int(tset_vals[-1])
    last_vb = vb_base.size - 1
    new_base = int(vb_base[last_vb] + csum[-1] - vb_csum[last_vb]) if vb_base[last_vb] >= 0 else -1
    new_state = Evt3State(True, int(loops[-1]) if n_th else state.loops, int(th_vals[-1]) if n_th else state.th,
                          new_tl, int(y_vals[-1]), new_base, int(vb_pol[-1]))

    if not keep.all():
        ev_idx, ev_t, ev_y, ev_base, ev_pol, ev_mask = (a[keep] for a in (ev_idx, ev_t, ev_y, ev_base, ev_pol, ev_mask))
    # expand masks, keeping word order and bit order inside a vector
    counts = _POPCOUNT12[ev_mask]
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    x = np.empty(total, np.int64)
    row = np.empty(total, np.int64)
    single = ev_mask == 1
    s_idx = np.flatnonzero(single)
    x[starts[s_idx]] = ev_base[s_idx]
    row[starts[s_idx]] = s_idx
    m_idx = np.flatnonzero(~single)
    if m_idx.size:
        bits = ((ev_mask[m_idx, None].astype(np.uint16) >> _BITS12) & 1).astype(bool)
        r, b = np.nonzero(bits)
        rank = np.cumsum(bits, axis=1)[r, b] - 1
        rows = m_idx[r]
        pos = starts[rows] + rank
        x[pos] = ev_base[rows] + b
        row[pos] = rows
    t = ev_t[row]
    y = ev_y[row]
    p = ev_pol[row]
    width, height = sensor_size
    out = (x >= width) | (y >= height)
    if out.any():
        k = int(np.argmax(out))
        raise FormatError(path, offset + 2 * int(ev_idx[row[k]]),
                          f"event at (x={int(x[k])}, y={int(y[k])}) lies outside the declared sensor "
                          f"geometry (W={width}, H={height})")
    return (x.astype(np.int16), y.astype(np.int16), t, p.astype(np.int8)), new_state


class Evt3Decoder(WordStreamDecoder):
    """Streaming EVT 3.0 decoder: feed byte chunks of any length, get ``(x, y, t, p)`` column tuples."""

    WORD_BYTES = 2
    DTYPE = "<u2"
    FORMAT_NAME = "EVT 3.0"
    STATE = Evt3State
    decode = staticmethod(decode_evt3_words)


def encode_evt3_words(x, y, t, p, state: dict | None = None) -> tuple[np.ndarray, dict]:
    """Encode events (sorted by t) into EVT 3.0 words; returns ``(uint16 words, state)``.

    Uses TIME_HIGH/TIME_LOW, ADDR_Y, ADDR_X and VECT_BASE_X + VECT_12 words:
    events sharing (t, y, p) with increasing x inside one 12-pixel-aligned
    window become one vector word (if the window holds >= 2 events).
    TIME_HIGH is emitted whenever t >> 12 changes; crossing a 2**24 us loop
    emits TIME_HIGH 4095 then 0 once per loop, which every decoder counts as a wrap.
    ``state`` (returned, pass it to the next call) holds the last TIME_HIGH,
    time and row, so a stream can be encoded chunk by chunk.
    """
    x = np.asarray(x, np.int64)
    y = np.asarray(y, np.int64)
    t = np.asarray(t, np.int64)
    p = np.asarray(p, np.int64)
    st = dict(state or {"abs_th": None, "t": None, "y": None})
    n = x.size
    if n == 0:
        return np.empty(0, np.uint16), st
    # runs of equal (t, y, p) with strictly increasing x; groups = run x 12-aligned window
    brk = np.ones(n, bool)
    brk[1:] = (t[1:] != t[:-1]) | (y[1:] != y[:-1]) | (p[1:] != p[:-1]) | (x[1:] <= x[:-1])
    run = np.cumsum(brk)
    win = x // 12
    gbrk = brk.copy()
    gbrk[1:] |= win[1:] != win[:-1]
    g_start = np.flatnonzero(gbrk)
    g_size = np.diff(np.append(g_start, n))
    ng = g_start.size
    gt, gy, gp, gx = t[g_start], y[g_start], p[g_start], x[g_start]
    g_run, g_win = run[g_start], win[g_start]
    is_vec = g_size >= 2
    # vector mask for each group
    g_id = np.cumsum(gbrk) - 1
    bitv = np.left_shift(np.int64(1), x - win * 12)
    mask = np.bincount(g_id, weights=bitv, minlength=ng).astype(np.int64)  # bits distinct inside a group
    # a VECT_BASE_X is needed unless the previous vector group is the previous window of the same run
    prev_vec = np.zeros(ng, bool)
    prev_vec[1:] = is_vec[:-1] & (g_run[1:] == g_run[:-1]) & (g_win[1:] == g_win[:-1] + 1)
    need_vb = is_vec & ~prev_vec
    # time and row words
    abs_th = gt >> 12
    prev_abs = np.empty(ng, np.int64)
    prev_abs[1:] = abs_th[:-1]
    prev_abs[0] = -1 if st["abs_th"] is None else st["abs_th"]
    th_lists = {}
    n_th = (abs_th != prev_abs).astype(np.int64)
    for gi in np.flatnonzero((abs_th >> 12) != (np.maximum(prev_abs, 0) >> 12)):
        pa, ca = int(prev_abs[gi]), int(abs_th[gi])
        seq = []
        lp, lc = (max(pa, 0) >> 12), ca >> 12
        if pa < 0 or (pa & 0xFFF) != 0xFFF:
            seq.append(0xFFF)
        for k in range(lp + 1, lc + 1):
            seq.append(0)
            if k < lc:
                seq.append(0xFFF)
        if ca & 0xFFF:
            seq.append(ca & 0xFFF)
        th_lists[int(gi)] = seq
        n_th[gi] = len(seq)
    prev_t = np.empty(ng, np.int64)
    prev_t[1:] = gt[:-1]
    prev_t[0] = -1 if st["t"] is None else st["t"]
    need_tl = (gt != prev_t) | (n_th > 0)
    prev_y = np.empty(ng, np.int64)
    prev_y[1:] = gy[:-1]
    prev_y[0] = -1 if st["y"] is None else st["y"]
    need_y = gy != prev_y
    n_payload = np.where(is_vec, 1, g_size)
    n_words = n_th + need_tl + need_y + need_vb + n_payload
    start = np.cumsum(n_words) - n_words
    out = np.empty(int(n_words.sum()), np.uint16)
    simple = n_th == 1
    simple[list(th_lists)] = False
    out[start[simple]] = 0x8000 | (abs_th[simple] & 0xFFF)
    for gi, seq in th_lists.items():
        out[start[gi]:start[gi] + len(seq)] = [0x8000 | v for v in seq]
    pos = start + n_th
    out[pos[need_tl]] = 0x6000 | (gt[need_tl] & 0xFFF)
    pos = pos + need_tl
    out[pos[need_y]] = gy[need_y] & 0x7FF
    pos = pos + need_y
    out[pos[need_vb]] = 0x3000 | (gp[need_vb] << 11) | (g_win[need_vb] * 12)
    pos = pos + need_vb
    out[pos[is_vec]] = 0x4000 | mask[is_vec]
    # single events (groups of size 1) are ADDR_X words; expand positions per event
    ev_single = ~is_vec[g_id]
    ev_pos = pos[g_id] + (np.arange(n) - g_start[g_id])
    out[ev_pos[ev_single]] = 0x2000 | (p[ev_single] << 11) | x[ev_single]
    st = {"abs_th": int(abs_th[-1]), "t": int(gt[-1]), "y": int(gy[-1])}
    return out, st


def header_bytes(sensor_size) -> bytes:
    """A new-style EVT 3.0 header (Metavision layout) for a ``(W, H)`` sensor."""
    w, h = int(sensor_size[0]), int(sensor_size[1])
    return (f"% camera_integrator_name nvlib\n% evt 3.0\n% format EVT3;height={h};width={w}\n"
            f"% geometry {w}x{h}\n% generation nvlib\n% end\n").encode("ascii")
