"""The converted-dataset cache: atomic clips, index, FrameDataset/ChunkDataset items and splits."""
import json

import numpy as np
import pytest
import torch

from nvlib.datasets import ChunkDataset, FrameDataset
from nvlib.datasets import cache as C


def _make_cache(tmp_path, n_bits=8, lengths=(7, 13, 5, 9)):
    d = tmp_path / "c"
    rng = np.random.default_rng(0)
    clips, arrays = [], {}
    dt = C.code_dtype(n_bits)
    for i, n in enumerate(lengths):
        codes = rng.integers(0, 2**n_bits, (n, 8, 8)).astype(dt)
        va = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        name = f"{i:03d}"
        C.write_clip(d, name, codes, va, {"group": f"g{i}"})
        clips.append(name)
        arrays[name] = (codes, va)
    meta = {"n_bits": n_bits, "delta_t_us": 5000, "size": 8, "source": "test", "labels_kind": "annotated",
            "n_folds": 4}
    C.finalize(d, clips, [f"g{i}" for i in range(4)], ["train", "train", "val", "test"], [0, 1, 2, 3], meta)
    return d, arrays


@pytest.mark.parametrize("n_bits", [8, 16])
def test_frame_dataset_items(tmp_path, n_bits):
    d, arrays = _make_cache(tmp_path, n_bits)
    ds = FrameDataset(d, split=None)
    assert len(ds) == 34 and ds.clips == ["000", "001", "002", "003"]
    assert ds.meta["n_bits"] == n_bits and ds.meta["labels_kind"] == "annotated"
    item = ds[7 + 3]  # clip 001, frame 3
    assert item["clip"] == "001" and item["index"] == 3
    assert item["frame"].shape == (1, 8, 8) and item["frame"].dtype == torch.float32
    codes, va = arrays["001"]
    # the same float32 bits as tbr(normalize=True): code / (2**N - 1) correctly rounded (float64 division
    # rounds innocuously to float32); a multiply by the float32 reciprocal is 1 ulp off for many codes
    np.testing.assert_array_equal(item["frame"][0].numpy(), (codes[3] / (2**n_bits - 1)).astype(np.float32))
    np.testing.assert_array_equal(item["va"].numpy(), va[3])
    assert 0 <= float(item["frame"].min()) and float(item["frame"].max()) <= 1
    assert ds[-1]["clip"] == "003" and ds[-1]["index"] == 8
    with pytest.raises(IndexError):
        ds[34]
    np.testing.assert_array_equal(ds.labels()[7:20], va)


def test_splits_and_folds(tmp_path):
    d, _ = _make_cache(tmp_path)
    assert FrameDataset(d, "train").clips == ["000", "001"]
    assert FrameDataset(d, "val").clips == ["002"] and FrameDataset(d, "test").clips == ["003"]
    assert FrameDataset(d, "test", fold=1).clips == ["001"]
    assert FrameDataset(d, "val", fold=1).clips == ["002"]
    assert FrameDataset(d, "train", fold=1).clips == ["000", "003"]
    with pytest.raises(ValueError):
        FrameDataset(d, "train", fold=4)


def test_chunks_of_consecutive_frames(tmp_path):
    d, arrays = _make_cache(tmp_path)
    ds = ChunkDataset(d, split=None, chunk=6, stride=6)
    # 7 -> 1 chunk, 13 -> 2, 5 -> 0, 9 -> 1
    assert len(ds) == 4
    starts = [(ds[i]["clip"], ds[i]["start"]) for i in range(4)]
    assert starts == [("000", 0), ("001", 0), ("001", 6), ("003", 0)]
    it = ds[2]
    assert it["frames"].shape == (6, 1, 8, 8) and it["va"].shape == (6, 2)
    np.testing.assert_array_equal(it["va"].numpy(), arrays["001"][1][6:12])
    np.testing.assert_array_equal(it["frames"][:, 0].numpy(), (arrays["001"][0][6:12] / 255).astype(np.float32))
    assert len(ChunkDataset(d, None, chunk=6, stride=1)) == 2 + 8 + 0 + 4


def test_dataloader_with_workers_pickles(tmp_path):
    d, _ = _make_cache(tmp_path)
    dl = torch.utils.data.DataLoader(FrameDataset(d, None), batch_size=10, num_workers=1)
    assert sum(b["frame"].shape[0] for b in dl) == 34


def test_incomplete_cache_and_bad_clips(tmp_path):
    d = tmp_path / "c"
    C.write_clip(d, "a", np.zeros((2, 4, 4), np.uint8), np.zeros((2, 2)), {})
    with pytest.raises(C.CacheError, match="index.json"):
        FrameDataset(d)
    with pytest.raises(ValueError, match="in \\[-1, 1\\]"):
        C.write_clip(d, "b", np.zeros((2, 4, 4), np.uint8), np.full((2, 2), np.nan), {})
    assert not (d / "clips" / "b").exists() and not list((d / "clips").glob(".b*"))
    assert json.loads((d / "clips" / "a" / "info.json").read_text())["n_frames"] == 2
    C.write_skipped(d, "z", "clips/z.json", "broken")
    assert C.read_skipped(d) == [{"clip": "z", "file": "clips/z.json", "reason": "broken"}]


def test_cache_name_carries_parameters():
    p = {"n_bits": 16, "delta_t_us": 5000, "size": 64}
    name = C.cache_name("afew-va", p)
    assert name.startswith("afew-va_tbr16b_dt5000us_s64_") and name != C.cache_name("afew-va", {**p, "x": 1})
    assert name == C.cache_name("afew-va", dict(reversed(list(p.items()))))  # key order never matters

    class Params:  # anything with to_dict() (nvlib.convert.ConvertParams) names the folder of its dict
        def to_dict(self):
            return dict(p)

    assert C.cache_name("afew-va", Params()) == name and C.params_hash(Params()) == C.params_hash(p)
    with pytest.raises(ValueError, match=r"lack \['size'\]"):
        C.cache_name("afew-va", {"n_bits": 8, "delta_t_us": 5000})
    with pytest.raises(TypeError, match="dict or have to_dict"):
        C.cache_name("afew-va", [("n_bits", 8)])


def test_resolve_va_cache_refuses_a_missing_cache(tmp_path):
    import pytest

    from nvlib.convert import resolve_va_cache

    with pytest.raises(FileNotFoundError, match="no such dataset cache"):
        resolve_va_cache(tmp_path / "nope")
    assert resolve_va_cache(tmp_path) == tmp_path


def test_time_segments_in_the_index(tmp_path):
    d = tmp_path / "c"
    codes = np.arange(10 * 4 * 4, dtype=np.uint8).reshape(10, 4, 4)
    va = np.linspace(-1, 1, 20, dtype=np.float32).reshape(10, 2)
    C.write_clip(d, "a", codes, va, {"group": "g"})
    meta = {"n_bits": 8, "delta_t_us": 5000, "size": 4, "source": "t", "labels_kind": "annotated", "n_folds": 3,
            "split_problem": "only 1 group"}
    C.finalize(d, ["a", "a", "a"], ["g"] * 3, ["train", "val", "test"], [0, 1, 2], meta, starts=[0, 6, 8],
               lengths=[6, 2, 2])
    test = FrameDataset(d, "test")
    assert len(test) == 2 and [test[i]["index"] for i in range(2)] == [8, 9]
    np.testing.assert_array_equal(test.clip_arrays("a")[1], va[8:])
    np.testing.assert_array_equal(test[1]["va"].numpy(), va[9])
    assert len(FrameDataset(d, "train")) == 6 and FrameDataset(d, None).clips == ["a"]
    assert len(FrameDataset(d, None)) == 10 and FrameDataset(d, None)[9]["index"] == 9
    ch = ChunkDataset(d, "train", chunk=3, stride=3)
    assert [ch[i]["start"] for i in range(len(ch))] == [0, 3]
    assert FrameDataset(d, "val", fold=0).clips == ["a"] and len(FrameDataset(d, "train", fold=0)) == 2
    with pytest.raises(ValueError, match="outside its 10 frames"):
        C.finalize(d, ["a"], ["g"], ["train"], [0], meta, starts=[8], lengths=[3])


def test_content_id_follows_sources_labels_and_splits(tmp_path):
    d, _ = _make_cache(tmp_path)
    entries = C.load_index(d)["clips"]
    cid = C.cache_content_id(d)
    assert len(cid) == 16 and cid == C.content_id(d, entries)
    assert C.content_id(d, [{**e, "split": "train"} for e in entries]) != cid
    info = json.loads((d / "clips" / "000" / "info.json").read_text())
    (d / "clips" / "000" / "info.json").write_text(json.dumps({**info, "source_digest": "elsewhere"}))
    assert C.content_id(d, entries) != cid
    (d / "clips" / "000" / "info.json").write_text(json.dumps(info))
    np.save(d / "clips" / "001" / "va.npy", np.zeros((13, 2), np.float32))
    assert C.content_id(d, entries) != cid


def test_a_clip_from_another_source_replaces_the_old_folder(tmp_path):
    d = tmp_path / "c"
    C.write_clip(d, "a", np.zeros((2, 4, 4), np.uint8), np.zeros((2, 2)), {"source_digest": "s1"})
    C.write_clip(d, "a", np.ones((3, 4, 4), np.uint8), np.zeros((3, 2)), {"source_digest": "s1"})  # same: kept
    assert C.clip_info(d, "a")["n_frames"] == 2
    C.write_clip(d, "a", np.ones((3, 4, 4), np.uint8), np.zeros((3, 2)), {"source_digest": "s2"})
    assert C.clip_info(d, "a") == {"source_digest": "s2", "clip": "a", "n_frames": 3}
    assert sorted(p.name for p in (d / "clips").iterdir()) == ["a"]
    C.remove_clip(d, "a")
    assert not (d / "clips" / "a").exists() and C.clip_info(d, "a") is None


def test_a_cache_without_labels_is_for_inference_only(tmp_path):
    d = tmp_path / "c"
    C.write_clip(d, "a", np.zeros((2, 4, 4), np.uint8), np.full((2, 2), np.nan), {"labels_kind": "none"})
    with pytest.raises(ValueError, match="must store NaN"):
        C.write_clip(d, "b", np.zeros((2, 4, 4), np.uint8), np.zeros((2, 2)), {"labels_kind": "none"})
    C.finalize(d, ["a"], ["a"], ["test"], [0], {"n_bits": 8, "delta_t_us": 5000, "size": 4, "labels_kind": "none",
                                                 "n_folds": 1})
    assert len(FrameDataset(d, "test")) == 2 and torch.isnan(FrameDataset(d, None)[0]["va"]).all()
    for split in ("train", "val"):
        with pytest.raises(C.CacheError, match="holds no labels"):
            FrameDataset(d, split)
    with pytest.raises(C.CacheError, match="holds no labels"):
        FrameDataset(d, None).labels()


def test_a_failed_conversion_says_so_when_read(tmp_path):
    d, _ = _make_cache(tmp_path)
    C.mark_failed(d, "x: 3 of 4 clips skipped", [{"clip": "z", "file": "f", "reason": "r"}])
    assert not C.is_complete(d)
    with pytest.raises(C.CacheError, match=r"did not pass its checks \(x: 3 of 4 clips skipped\); see .*skipped\.log"):
        FrameDataset(d)
