"""The ipywidgets explorer, driven headless through its widget callbacks."""
import numpy as np
import pytest

from nvlib.events import make_events
from nvlib.pictures.explore import REPRESENTATIONS, Clip, EventExplorer, explore, render_events
from nvlib.represent import tbr_aligned

PNG = b"\x89PNG\r\n\x1a\n"


def synthetic_clip(name="synthetic", n_frames=12, fps=25.0, size=(20, 12), seed=0, labels=True):
    rng = np.random.default_rng(seed)
    n = 3000
    dur = int(n_frames / fps * 1e6)
    ev = make_events(rng.integers(0, size[0], n), rng.integers(0, size[1], n), np.sort(rng.integers(0, dur, n)),
                     rng.integers(0, 2, n), size)
    frames = rng.integers(0, 256, (n_frames, size[1], size[0], 3), dtype=np.uint8)
    va = np.stack([np.linspace(-1, 1, n_frames), np.linspace(1, -1, n_frames)], 1) if labels else None
    return Clip(name, ev, frames, fps, va, labels_kind="derived")


def test_callbacks_update_the_aligned_event_frame():
    clip = synthetic_clip()
    ex = EventExplorer([clip], figsize=(6, 2))
    assert bytes(ex.image.value).startswith(PNG) and ex.last["clip"] == "synthetic"
    ex.set(frame=7)
    assert ex.last["frame"] == 7 and ex.last["end_us"] == 280_000
    np.testing.assert_array_equal(ex.last["event_image"], tbr_aligned(clip.events, (20, 12), [280_000])[0])
    np.testing.assert_allclose(ex.last["labels"], clip.labels[7])
    ex.set(n_bits=16, delta_t_ms=2.5)
    assert ex.last["delta_t_us"] == 2500 and ex.last["n_bits"] == 16
    np.testing.assert_array_equal(ex.last["event_image"],
                                  tbr_aligned(clip.events, (20, 12), [280_000], 2500, 16)[0])
    window = clip.events.time_slice(280_000 - 40_000, 280_000)
    assert ex.last["n_events"] == len(window) > 0
    assert "frame 7/11" in ex.info.value


@pytest.mark.parametrize("rep", list(REPRESENTATIONS))
def test_every_representation_renders(rep):
    clip = synthetic_clip(labels=False)
    ex = EventExplorer([clip], representation=rep, figsize=(6, 2))
    before = ex.image.value
    ex.set(frame=3)
    img = ex.last["event_image"]
    if rep == "voxel grid":  # 8 bins in 2 rows of 4, one blank pixel between them
        assert img.shape == (2 * 13 - 1, 4 * 21 - 1) and np.isfinite(img[:12, :20]).all()
    else:
        assert img.shape == (12, 20) and np.isfinite(img).all()
    assert bytes(ex.image.value).startswith(PNG) and bytes(ex.image.value) != bytes(before)


def test_histogram_view_is_on_minus_off_and_count_view_counts():
    clip = synthetic_clip()
    end = int(clip.times_us[5])
    win = clip.events.time_slice(end - 40_000, end)
    count = render_events(clip, "count", end, 5000, 8)
    assert count.sum() == len(win)
    diff = render_events(clip, "histogram", end, 5000, 8)
    assert diff.sum() == int(win.p.sum()) - int((win.p == 0).sum())
    with pytest.raises(ValueError, match="unknown representation"):
        render_events(clip, "nope", end, 5000, 8)


def test_switching_clip_clamps_the_frame_slider():
    long, short = synthetic_clip("long", n_frames=20), synthetic_clip("short", n_frames=6, seed=1)
    ex = EventExplorer({"long": long, "short": short}, figsize=(6, 2))
    ex.set(frame=15)
    ex.set(clip="short")  # the clip's callback clamps the frame
    assert ex.frame.max == 5 and ex.last["clip"] == "short" and ex.last["frame"] == 5
    ex.set(clip="long")
    assert ex.frame.max == 19
    with pytest.raises(KeyError, match="no explorer control"):
        ex.set(speed=2)
    with pytest.raises(ValueError, match="label rows"):
        Clip("bad", long.events, long.frames, 25.0, np.zeros((3, 2)))


def test_explore_on_the_real_sample_clip(sample_video):
    pytest.importorskip("nvlib.simulate")
    ex = explore(["carphone"], max_frames=6, figsize=(6, 2))
    clip = ex.clips["carphone"]
    assert clip.frames.shape == (6, 144, 176, 3) and len(clip.events) > 0
    ex.set(frame=5, representation="time surface")
    assert ex.last["event_image"].shape == (144, 176) and bytes(ex.image.value).startswith(PNG)


def test_voxel_view_shows_every_bin():
    from nvlib.pictures.explore import tile_bins

    bins = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    img = tile_bins(bins, columns=4)
    assert img.shape == (2 * (2 + 1) - 1, 4 * (3 + 1) - 1)
    np.testing.assert_array_equal(img[0:2, 0:3], bins[0])
    np.testing.assert_array_equal(img[0:2, 12:15], bins[3])
    np.testing.assert_array_equal(img[3:5, 0:3], bins[4])  # second row
    assert np.isnan(img[2]).all() and np.isnan(img[3:5, 4:]).all()


def test_saved_explorer_output_carries_a_picture():
    ex = EventExplorer([synthetic_clip()], representation="voxel grid", figsize=(6, 2))
    bundle = ex._repr_mimebundle_()
    import base64

    assert base64.b64decode(bundle["image/png"]).startswith(PNG) and "EventExplorer" in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    img = ex.last["event_image"]
    window = ex.clips["synthetic"].events.time_slice(ex.last["end_us"] - 40_000, ex.last["end_us"])
    # every bin is drawn: the lit pixels are those of the whole window, not of its newest bin alone
    assert np.count_nonzero(np.nan_to_num(img)) > 0.5 * len(np.unique(window.y.astype(int) * 20 + window.x))
