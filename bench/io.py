"""Benchmark nvlib.io: EVT 3.0 decoding vs the ``evt3`` package, cache vs raw, streaming memory.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/io.py``. Prints ratios measured in this run.
Baselines: ``evt3.decode_file`` on the same file; ``read_events`` of the ``.raw`` file.
"""
from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

import nvlib.io as nio
from nvlib.events import make_events
from nvlib.workbook.paths import shared_dir


def best_of(fn, repeat=7):
    fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def synthetic_raw(path: Path, n: int, seed=0) -> Path:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, n // 20, n))  # ~20 Mev/s
    ev = make_events(rng.integers(0, 1280, n), rng.integers(0, 720, n), t, rng.integers(0, 2, n), (1280, 720))
    return nio.write_evt3(path, ev)


def main():
    import evt3

    tmp = Path(tempfile.mkdtemp(prefix="nvlib-bench-io-"))
    files = []
    root = shared_dir()
    if root is not None and (root / "fixtures/events/gen41_evt3_sample.raw").is_file():
        files.append(("gen41 fixture", root / "fixtures/events/gen41_evt3_sample.raw"))
    files.append(("synthetic 4M", synthetic_raw(tmp / "syn4m.raw", 4_000_000)))

    print("== EVT 3.0 decoding (events/s, best of 7), baseline evt3.decode_file ==")
    for name, path in files:
        n = len(evt3.decode_file(str(path)))
        t_pkg = best_of(lambda: evt3.decode_file(str(path)))
        t_auto = best_of(lambda: nio.read_events(path))
        t_np = best_of(lambda: nio.read_events(path, backend="numpy"), repeat=3)
        print(f"{name}: {n} events | evt3 {n / t_pkg / 1e6:.1f} Mev/s | nvlib read_events (auto) "
              f"{n / t_auto / 1e6:.1f} Mev/s = {t_pkg / t_auto:.2f}x | nvlib numpy decoder "
              f"{n / t_np / 1e6:.1f} Mev/s = {t_pkg / t_np:.2f}x")

    print("== cache read vs raw decode (read_events of the .raw), same events ==")
    for name, path in files:
        ev = nio.read_events(path)
        cache = nio.write_cache(tmp / "c.evc", ev)
        packed = nio.write_cache(tmp / "z.evc", ev, compress=True)
        t_raw = best_of(lambda: nio.read_events(path))
        t_c = best_of(lambda: nio.read_cache(cache))
        t_cols = best_of(lambda: nio.read_cache_columns(cache))
        t_z = best_of(lambda: nio.read_cache(packed), repeat=3)
        print(f"{name}: raw decode {t_raw * 1e3:.2f} ms | cache -> Events {t_c * 1e3:.2f} ms = {t_raw / t_c:.1f}x "
              f"| cache columns (mmap) {t_cols * 1e3:.3f} ms = {t_raw / t_cols:.0f}x | zlib cache "
              f"{t_z * 1e3:.2f} ms = {t_raw / t_z:.2f}x ({packed.stat().st_size / cache.stat().st_size:.2f} of "
              f"the size)")

    print("== streaming peak memory (tracemalloc), iter_events(window_us=10_000, chunk_bytes=1 MiB) ==")
    for n in (1_000_000, 4_000_000):
        path = synthetic_raw(tmp / f"s{n}.raw", n, seed=1)
        gc.collect()
        tracemalloc.start()
        count = 0
        for w in nio.iter_events(path, 10_000, chunk_bytes=1 << 20):
            count += len(w)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        tracemalloc.start()
        whole = nio.read_events(path)
        peak_whole = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del whole
        print(f"{n} events ({path.stat().st_size / 2**20:.1f} MiB): streaming peak {peak / 2**20:.1f} MiB, "
              f"whole-file read peak {peak_whole / 2**20:.1f} MiB, streamed {count} events")
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
