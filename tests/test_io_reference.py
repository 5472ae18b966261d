"""Scalar reference decoders written straight from the format specifications.

Used only by tests as an independent oracle for the vectorised decoders in nvlib.io.
"""
from __future__ import annotations

import struct


def ref_evt3(words):
    """EVT 3.0 word list -> [(x, y, p, t)], following the spec in issue 3 word by word."""
    out = []
    started, loops, th, tl, y, base, pol = False, 0, 0, 0, None, None, 0
    for w in words:
        ty, v = w >> 12, w & 0xFFF
        if not started:
            if ty == 0x8:
                started, th, tl = True, v, 0
            continue
        if ty == 0x8:
            if th - v >= 2048:
                loops += 1
            th, tl = v, 0
        elif ty == 0x6:
            tl = v
        elif ty == 0x0:
            y = v & 0x7FF
        elif ty == 0x2:
            if y is not None:
                out.append((v & 0x7FF, y, v >> 11, loops * 2**24 + th * 4096 + tl))
        elif ty == 0x3:
            base, pol = v & 0x7FF, v >> 11
        elif ty in (0x4, 0x5):
            nbits = 12 if ty == 0x4 else 8
            if base is not None:
                if y is not None:
                    t = loops * 2**24 + th * 4096 + tl
                    out.extend((base + b, y, pol, t) for b in range(nbits) if (v >> b) & 1)
                base += nbits
    return out


def ref_evt2(words):
    """EVT 2.0 word list -> [(x, y, p, t)]."""
    out = []
    th = None
    loops = 0
    for w in words:
        ty = w >> 28
        if ty == 0x8:
            v = w & 0x0FFFFFFF
            if th is not None and th - v >= 2**27:
                loops += 1
            th = v
        elif ty in (0, 1) and th is not None:
            t = ((loops << 28) + th) * 64 + ((w >> 22) & 0x3F)
            out.append(((w >> 11) & 0x7FF, w & 0x7FF, ty, t))
    return out


def ref_dat(buf: bytes):
    """DAT records (after the type/size bytes) -> [(x, y, p, t)]."""
    out = []
    for i in range(0, len(buf) - len(buf) % 8, 8):
        t, w = struct.unpack_from("<II", buf, i)
        out.append((w & 0x3FFF, (w >> 14) & 0x3FFF, (w >> 28) & 1, t))
    return out


def as_tuples(ev):
    """Events -> [(x, y, p, t)] of Python ints."""
    return list(zip(ev.x.tolist(), ev.y.tolist(), ev.p.tolist(), ev.t.tolist()))


# --- the references themselves reproduce the specification vectors of issue 3 ---------------

EVT3_SPEC_WORDS = [0x8123, 0x6456, 0x0064, 0x28C8, 0x20C9, 0x645B, 0x392C, 0x4005, 0x4800, 0x5081]
EVT3_SPEC_EVENTS = [(200, 100, 1, 1193046), (201, 100, 0, 1193046), (300, 100, 1, 1193051), (302, 100, 1, 1193051),
                    (323, 100, 1, 1193051), (324, 100, 1, 1193051), (331, 100, 1, 1193051)]
EVT2_SPEC_WORDS = [0x80048D15, 0x19C64064, 0x0A864865]
EVT2_SPEC_EVENTS = [(200, 100, 1, 19088743), (201, 101, 0, 19088746)]
DAT_SPEC_RECORDS = [(10, 0x101900C8), (20, 0x001940C9)]
DAT_SPEC_EVENTS = [(200, 100, 1, 10), (201, 101, 0, 20)]


def test_reference_evt3_spec_vector():
    assert ref_evt3(EVT3_SPEC_WORDS) == EVT3_SPEC_EVENTS


def test_reference_evt2_spec_vector():
    assert ref_evt2(EVT2_SPEC_WORDS) == EVT2_SPEC_EVENTS


def test_reference_dat_spec_vector():
    buf = b"".join(struct.pack("<II", t, w) for t, w in DAT_SPEC_RECORDS)
    assert ref_dat(buf) == DAT_SPEC_EVENTS


def test_reference_evt3_wrap_and_repeats():
    # TIME_HIGH repeated, TIME_LOW stepping back: no wrap; 4095 -> 0: one wrap
    words = [0x8FFF, 0x6010, 0x0001, 0x2002, 0x8FFF, 0x6008, 0x2003, 0x8000, 0x2004]
    assert ref_evt3(words) == [(2, 1, 0, 4095 * 4096 + 16), (3, 1, 0, 4095 * 4096 + 8), (4, 1, 0, 2**24)]
