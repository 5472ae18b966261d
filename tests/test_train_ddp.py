"""DistributedDataParallel through torchrun on CPU (gloo backend, world size 2)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

SCRIPT = textwrap.dedent('''
    import sys, torch
    from torch.utils.data import TensorDataset, Dataset
    from nvlib.models import build_model
    from nvlib.train import TrainConfig, fit, seed_everything

    class D(Dataset):
        def __init__(self, n, seed):
            g = torch.Generator().manual_seed(seed)
            self.x = torch.rand(n, 1, 16, 16, generator=g)
            self.y = torch.stack([self.x.mean((1, 2, 3)), self.x[..., :8].mean((1, 2, 3))], 1) * 2 - 1
        def __len__(self):
            return len(self.x)
        def __getitem__(self, i):
            return {"frame": self.x[i], "va": self.y[i], "clip": "c", "index": i}

    out = sys.argv[1]
    seed_everything(0)
    m = build_model("vit", image_size=16, patch_size=8, hidden_dim=32, mlp_dim=64, depth=2, heads=2)
    cfg = TrainConfig(epochs=2, batch_size=4, lr=1e-3, device="cpu", progress=False, tensorboard=False)
    res = fit(m, D(16, 0), D(8, 1), cfg, out)
    rank = torch.distributed.get_rank()
    torch.save(m.state_dict(), f"{out}/rank{rank}.pt")
    torch.distributed.destroy_process_group()
''')


@pytest.mark.slow
def test_ddp_two_ranks_gloo(tmp_path):
    script = tmp_path / "ddp_fit.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        str(script), str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    a = torch.load(tmp_path / "run" / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "run" / "rank1.pt", weights_only=True)
    for k in a:  # DDP averaged the gradients: both replicas hold the same weights
        assert torch.equal(a[k], b[k]), k
    conf = json.loads((tmp_path / "run" / "config.json").read_text())
    assert conf["world_size"] == 2
    ck = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert ck["epoch"] == 2
    for k in a:
        assert torch.equal(ck["model"][k], a[k]), k
