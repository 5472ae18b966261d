"""nvlib.io.iter_events: time windows that concatenate back to read_events."""
from __future__ import annotations

import numpy as np
import pytest

import nvlib.io as nio
from nvlib.events import concatenate, make_events
from test_io_writers import EXT, WRITERS, synthetic


@pytest.mark.parametrize("fmt", ["evt3", "evt2", "dat", "v2e_h5", "v2e_text", "cache"])
def test_windows_concatenate_to_whole(tmp_path, fmt):
    ev = synthetic(4000, seed=7, t0=1000, span=100_000)
    path = WRITERS[fmt](tmp_path / f"s{EXT[fmt]}", ev)
    windows = list(nio.iter_events(path, 7_000, chunk_bytes=1024))
    np.testing.assert_array_equal(concatenate(windows).array, ev.array)
    t0 = int(ev.t[0])
    assert len(windows) == (int(ev.t[-1]) - t0) // 7_000 + 1
    for k, w in enumerate(windows):
        if len(w):
            assert t0 + k * 7_000 <= w.t.min() and w.t.max() < t0 + (k + 1) * 7_000


def test_empty_windows_and_start(tmp_path):
    ev = make_events([1, 2, 3], [1, 1, 1], [100, 150, 10_050], [0, 1, 0], (8, 8))
    path = nio.write_cache(tmp_path / "g.evc", ev)
    wins = list(nio.iter_events(path, 1000, start_us=0))
    assert [len(w) for w in wins] == [2] + [0] * 9 + [1]
    wins = list(nio.iter_events(path, 1000, start_us=120))
    assert [len(w) for w in wins] == [1] + [0] * 8 + [1]  # the event at t=100 precedes the start


def test_real_evt3_windows(tmp_path):
    from test_io_formats import fixture
    path = fixture("gen41_evt3_sample.raw")
    whole = nio.read_events(path)
    wins = list(nio.iter_events(path, 1000, chunk_bytes=65_536))
    assert len(wins) == 9
    np.testing.assert_array_equal(concatenate(wins).array, whole.array)
