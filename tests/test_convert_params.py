"""ConvertParams: caches made before it keep their folder names and params.json; validation; params.json checks."""
import dataclasses
import json

import pytest

from nvlib.convert import (ConvertParams, GeneratorParams, Job, afewva_params, clip_seed, dvs_params, nefer_params,
                           run_conversion, samples_params, synthetic_params)
from nvlib.convert.params import DVS_PRESETS
from nvlib.datasets import cache as C

# Folder names and params.json of caches written by the converter before ConvertParams existed (computed with
# its `_base_params` + `params.update(...)`): the same settings must name the same folders, so users' converted
# data is resumed, never silently converted again.
COMMON = {"representation": "tbr", "dvs": "default", "dvs_seed": 0, "margin": 0.25, "windows": "consecutive",
          "upsample": "auto", "n_bits": 8, "delta_t_us": 5000}
PINNED = [
    ("afew-va", lambda: afewva_params("AFEW-VA"), "afew-va_tbr8b_dt5000us_s128_700c93a9",
     {**COMMON, "size": 128, "fps": 25.0, "labels_kind": "annotated", "source_root": "AFEW-VA"}),
    ("afew-va", lambda: afewva_params("afew", n_bits=16, size=64, fps=30, dvs="clean", upsample=1),
     "afew-va_tbr16b_dt5000us_s64_2eb0c648",
     {**COMMON, "n_bits": 16, "size": 64, "fps": 30.0, "dvs": "clean", "upsample": 1, "labels_kind": "annotated",
      "source_root": "afew"}),
    ("afew-va-derived", lambda: afewva_params("AFEW-VA", delta_t_us=2500, upsample="4", extra={"note": "x"},
                                              labels_kind="derived"),
     "afew-va-derived_tbr8b_dt2500us_s128_c2bb3c25",
     {**COMMON, "delta_t_us": 2500, "size": 128, "fps": 25.0, "upsample": 4, "labels_kind": "derived",
      "source_root": "AFEW-VA", "note": "x"}),
    ("synthetic-va", lambda: synthetic_params(), "synthetic-va_tbr8b_dt5000us_s64_7e5be539",
     {**COMMON, "size": 64, "fps": 25.0, "labels_kind": "annotated", "source_root": "synthetic",
      "generator": {"fps": 25.0, "image_size": 64, "n_actors": None, "n_clips": 12, "n_frames": 48, "seed": 0}}),
    ("synthetic-va", lambda: synthetic_params(n_clips=64, n_frames=16, size=32, n_bits=8, seed=0),  # notebooks
     "synthetic-va_tbr8b_dt5000us_s32_100473f2",
     {**COMMON, "size": 32, "fps": 25.0, "labels_kind": "annotated", "source_root": "synthetic",
      "generator": {"fps": 25.0, "image_size": 32, "n_actors": None, "n_clips": 64, "n_frames": 16, "seed": 0}}),
    ("synthetic-va", lambda: synthetic_params(5, 6, 16, 16, seed=2, fps=30, n_actors=3, image_size=48),
     "synthetic-va_tbr16b_dt5000us_s16_9f03e797",
     {**COMMON, "n_bits": 16, "size": 16, "fps": 30.0, "labels_kind": "annotated", "source_root": "synthetic",
      "generator": {"fps": 30.0, "image_size": 48, "n_actors": 3, "n_clips": 5, "n_frames": 6, "seed": 2}}),
    ("samples", lambda: samples_params(), "samples_tbr8b_dt5000us_s128_1ce21798",
     {**COMMON, "size": 128, "margin": 0.15, "labels_kind": "derived", "max_frames": None, "label_source": "acted",
      "detect_every": 5}),
    ("samples", lambda: samples_params(size=16, max_frames=12, label_source="perceived"),
     "samples_tbr8b_dt5000us_s16_fb6569f1",
     {**COMMON, "size": 16, "margin": 0.15, "labels_kind": "derived", "max_frames": 12,
      "label_source": "perceived", "detect_every": 5}),
    ("nefer-expected", lambda: nefer_params("NEFER"), "nefer-expected_tbr8b_dt5000us_s128_e6b2b67a",
     {**COMMON, "size": 128, "labels_kind": "derived", "nefer_labels": "expected", "source_root": "NEFER"}),
    ("nefer-reported", lambda: nefer_params("nefer", "reported", n_bits=16, size=64),
     "nefer-reported_tbr16b_dt5000us_s64_fbd132b7",
     {**COMMON, "n_bits": 16, "size": 64, "labels_kind": "derived", "nefer_labels": "reported",
      "source_root": "nefer"}),
]


@pytest.mark.parametrize("source, make, name, content", PINNED, ids=[p[2] for p in PINNED])
def test_cache_names_and_params_json_of_earlier_caches_are_kept(source, make, name, content):
    p = make()
    assert p.to_dict() == content
    assert C.cache_name(source, p) == name == C.cache_name(source, content)
    assert C.dumps(p.to_dict()) == C.dumps(content)
    # a params.json read back gives the same parameters (and the same key order does not matter)
    back = ConvertParams.from_dict(json.loads(C.dumps(content)))
    assert back == p and ConvertParams.from_dict(dict(reversed(list(content.items())))) == p


def test_params_json_text_is_unchanged():
    text = C.dumps(afewva_params("AFEW-VA").to_dict())
    assert text == ('{\n  "delta_t_us": 5000,\n  "dvs": "default",\n  "dvs_seed": 0,\n  "fps": 25.0,\n'
                    '  "labels_kind": "annotated",\n  "margin": 0.25,\n  "n_bits": 8,\n  "representation": "tbr",\n'
                    '  "size": 128,\n  "source_root": "AFEW-VA",\n  "upsample": "auto",\n'
                    '  "windows": "consecutive"\n}\n')


def test_params_are_typed_frozen_and_normalised():
    p = ConvertParams("afewva", n_bits="8", delta_t_us=5000.0, size=64, fps=25, upsample="3", source_root="r",
                      margin=0)
    assert (p.n_bits, p.delta_t_us, p.fps, p.upsample, p.margin) == (8, 5000, 25.0, 3, 0.0)
    assert type(p.delta_t_us) is int and type(p.fps) is float and p.window_us == 40_000
    assert p.labels_kind == "annotated" and p.job_kind == "afewva"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_bits = 16
    assert p.replace(n_bits=16).n_bits == 16 and p.n_bits == 8
    assert hash(p) == hash(ConvertParams.from_dict(p.to_dict()))
    s = ConvertParams("samples")
    assert (s.margin, s.labels_kind, s.label_source, s.detect_every, s.max_frames) == (0.15, "derived", "acted", 5,
                                                                                        None)
    syn = ConvertParams("synthetic", fps=30.0)
    assert syn.generator == GeneratorParams(fps=30.0) and syn.source_root == "synthetic" and syn.job_kind == "afewva"
    assert GeneratorParams(n_clips=3, n_frames=4, image_size=16, seed=1).tree_name == "synthetic_afewva_n3_f4_s16_seed1"
    assert ConvertParams("synthetic", generator={"n_clips": 3, "fps": 25.0}).generator.n_clips == 3


@pytest.mark.parametrize("kw, match", [
    (dict(kind="video"), "kind must be one of"),
    (dict(n_bits=0), r"n_bits must be in 1\.\.16"),
    (dict(n_bits=17), r"n_bits must be in 1\.\.16"),
    (dict(n_bits=8.5), "n_bits must be an integer"),
    (dict(n_bits=True), "n_bits must be an integer"),
    (dict(size=4), "size must be >= 8"),
    (dict(delta_t_us=0), "delta_t_us must be >= 1"),
    (dict(upsample="fast"), "upsample must be 'auto' or an integer factor >= 1"),
    (dict(upsample=0), "upsample must be"),
    (dict(upsample=True), "upsample must be"),
    (dict(dvs="loud"), "dvs must be one of 'default', 'clean', 'noisy'"),
    (dict(margin=-0.1), "margin must be >= 0"),
    (dict(fps=0), "fps must be > 0"),
    (dict(fps=float("nan")), "fps must be finite"),
    (dict(labels_kind="guessed"), "labels_kind must be one of"),
    (dict(source_root=None), "afewva conversions need source_root"),
    (dict(max_frames=10), "max_frames does not apply to afewva"),
    (dict(nefer_labels="expected"), "nefer_labels does not apply to afewva"),
    (dict(extra={"n_bits": 4}), "extra key 'n_bits' is a parameter"),
    (dict(extra={"when": object()}), "extra value of 'when' must be JSON"),
    (dict(representation="voxel"), "representation must be one of 'tbr'"),
    (dict(windows="aligned"), "windows must be one of 'consecutive'"),
    (dict(kind="samples", source_root=None, labels_kind="annotated"),
     "labels_kind of samples conversions is 'derived'"),
    (dict(kind="samples", source_root=None, max_frames=1), "max_frames must be >= 2"),
    (dict(kind="samples", source_root=None, label_source="voted"), "label_source must be one of"),
    (dict(kind="samples", source_root=None, detect_every=0), "detect_every must be >= 1"),
    (dict(kind="samples", source_root=None, fps=25.0), "fps does not apply to samples"),
    (dict(kind="nefer", nefer_labels="guessed"), "nefer_labels must be one of"),
    (dict(kind="nefer", extra={"a": 1}), "extra parameters apply to afewva conversions only"),
    (dict(kind="synthetic", source_root=None, fps=30.0, generator=GeneratorParams(fps=25.0)),
     "differs from the generator"),
    (dict(kind="synthetic", source_root=None, generator={"n_clips": 0}), "generator n_clips must be >= 1"),
    (dict(kind="synthetic", source_root=None, generator={"clips": 3}), r"generator: unknown key\(s\) \['clips'\]"),
])
def test_bad_parameters_are_named(kw, match):
    args = {"kind": "afewva", "source_root": "root", **kw}
    with pytest.raises(ValueError, match=match):
        ConvertParams(**args)


def test_from_dict_tells_the_source_and_refuses_unknown_keys():
    n = nefer_params("/x/NEFER").to_dict()
    with pytest.raises(ValueError, match=r"nefer parameters: unknown key\(s\) \['colour'\]"):
        ConvertParams.from_dict({**n, "colour": 1})
    with pytest.raises(ValueError, match=r"lack \['size'\]"):
        ConvertParams.from_dict({k: v for k, v in n.items() if k != "size"})
    with pytest.raises(ValueError, match="cannot tell the source"):
        ConvertParams.from_dict({"n_bits": 8, "delta_t_us": 5000, "size": 64})
    a = afewva_params("/x/afew", extra={"note": "y", "pair": (1, 2)})
    assert a.extra == (("note", "y"), ("pair", [1, 2])) and ConvertParams.from_dict(a.to_dict()) == a
    here = afewva_params(".")  # run inside the tree: the folder name is "", as the converter always wrote it
    assert here.source_root == "" and ConvertParams.from_dict(json.loads(C.dumps(here.to_dict()))) == here


def test_dvs_presets_and_per_clip_seeds():
    from nvlib.simulate import DVSParams

    for name in DVS_PRESETS[1:]:  # every preset the parameters accept is one the simulator knows
        DVSParams.preset(name)
    p = afewva_params("/x/afew", dvs="noisy")
    a, b = p.dvs_params("001"), dvs_params(p.to_dict(), "002")
    assert a.seed == clip_seed("001") != b.seed == clip_seed("002") and a.seed > 0
    assert a.replace(seed=0) == DVSParams.preset("noisy").replace(seed=0)
    assert p.replace(dvs_seed=3).dvs_params("001").seed == clip_seed("001", 3) != a.seed


def test_params_json_is_written_once_then_checked(tmp_path):
    p = samples_params(size=16)
    pfile = C.write_or_check_params(tmp_path, p)
    assert pfile.read_text() == C.dumps(p.to_dict())
    # same values written differently (another indentation): still the same parameters
    pfile.write_text(json.dumps(p.to_dict()))
    C.write_or_check_params(tmp_path, p.to_dict())
    with pytest.raises(C.CacheError, match=r"params\.json: parameters differ.*label_source: cache 'acted', "
                                           r"this run 'perceived'"):
        C.write_or_check_params(tmp_path, p.replace(label_source="perceived"))
    pfile.write_text("{not json")
    with pytest.raises(C.CacheError, match=r"params\.json: malformed JSON"):
        C.write_or_check_params(tmp_path, p)


def test_run_conversion_checks_its_parameters(tmp_path):
    jobs = [Job("001", "afewva", "a", "x/001.json", {"clip_dir": "x/001"})]
    with pytest.raises(ValueError, match=r"samples parameters convert 'samples' jobs, got \['afewva'\]"):
        run_conversion("s", samples_params(size=16), jobs, tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"duplicate clip ids \['001'\]"):
        run_conversion("a", afewva_params("/x/a", size=16), jobs * 2, tmp_path, progress=False)
    with pytest.raises(ValueError, match="cannot tell the source"):
        run_conversion("a", {"n_bits": 8, "delta_t_us": 5000, "size": 16}, jobs, tmp_path, progress=False)
    assert not any(tmp_path.iterdir())  # nothing written for refused parameters
    # an existing folder whose params.json differs is refused before any clip is converted
    p = afewva_params("/x/a", size=16)
    d = tmp_path / C.cache_name("a", p)
    d.mkdir()
    (d / "params.json").write_text(C.dumps({**p.to_dict(), "fps": 30.0}))
    with pytest.raises(C.CacheError, match="fps: cache 30.0, this run 25.0"):
        run_conversion("a", p, jobs, tmp_path, progress=False)
    assert not (d / "clips").exists()


def test_videos_parameters(tmp_path):
    from nvlib.convert import videos_params

    p = videos_params(tmp_path / "lab" / "My Clips", labelled=True, size=32)  # only the folder name is kept
    d = p.to_dict()
    assert d["labels_kind"] == "user" and d["source_root"] == "My Clips" and d["fps"] is None
    assert d["margin"] == 0.15 and d["detect_every"] == 5 and d["max_frames"] is None
    assert ConvertParams.from_dict(d) == p and p.job_kind == "videos"
    q = videos_params(tmp_path / "clips", labelled=False, fps=30)
    assert q.labels_kind == "none" and q.fps == 30.0 and ConvertParams.from_dict(q.to_dict()) == q
    assert C.cache_name("videos", p) != C.cache_name("videos", p.replace(labels_kind="none"))
    with pytest.raises(ValueError, match="need labels_kind 'user'"):
        ConvertParams("videos", source_root="x")
    with pytest.raises(ValueError, match="labels_kind must be one of 'user', 'none'"):
        ConvertParams("videos", source_root="x", labels_kind="annotated")
    with pytest.raises(ValueError, match="'user' is for videos conversions"):
        afewva_params("/x/a", labels_kind="user")
    with pytest.raises(ValueError, match="fps must be > 0"):
        videos_params("/x", True, fps=0)
    with pytest.raises(ValueError, match="videos conversions need source_root"):
        ConvertParams("videos", labels_kind="user")
