"""Seeds trained as one vectorised ensemble against their sequential trials; seed grouping in sweeps."""

import subprocess

import pytest
from conftest import command, kill_after

from experiments.harness.runner import run_seeds, run_trial
from experiments.harness.store import ResultStore
from experiments.harness.sweep import group_seeds

# every covered model, each with a 50-step float64 protocol of its experiment
CASES = [
    ("fit2d", m, ["trainer.steps=50", "trainer.eval_every=10"]) for m in ("gmnm", "kan", "mlp_relu", "mlp_tanh", "rbf")
]
CASES += [("poisson", m, ["trainer.steps=50", "trainer.eval_every=10"]) for m in ("gmnm", "kan", "pinn", "rbf")]
CASES += [("timeseries", m, ["trainer.epochs=10"]) for m in ("lstm3", "lstm3_gmnm", "lstm32")]  # 5 steps an epoch


def close(a: float | None, b: float | None, rtol: float) -> bool:
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


@pytest.mark.parametrize("experiment,model,steps", CASES, ids=[f"{e}-{m}" for e, m, _ in CASES])
def test_a_seed_of_an_ensemble_matches_its_sequential_trial(compose_cfg, tmp_path, experiment, model, steps):
    overrides = [
        f"experiment={experiment}",
        f"model={model}",
        "profile=smoke",
        "trainer.dtype=float64",
        "trainer.vectorize=true",
        *steps,
    ]
    group = run_seeds(compose_cfg(*overrides), [0, 1, 2, 3])
    alone = run_trial(compose_cfg(*overrides, "seed=2", f"paths.store_dir={tmp_path / 'alone'}"))
    together = group[2]
    assert together["key"] == alone["key"] and together["summary"]["seeds_in_process"] == 4
    assert [r["step"] for r in together["history"]] == [r["step"] for r in alone["history"]]
    for mine, theirs in zip(together["history"], alone["history"]):
        for k, v in theirs.items():
            assert close(mine[k], v, 1e-6), (k, mine, theirs)
    assert len({r["history"][-1]["test_mse" if "test_mse" in r["history"][-1] else "l2"] for r in group}) == 4
    assert group[0]["summary"]["n_params"] == alone["summary"]["n_params"]


def test_pykans_kan_seeds_train_one_after_another_and_say_so(compose_cfg, tmp_path, caplog):
    cfg = compose_cfg("experiment=fit1d", "model=kan", "model.impl=pykan", "profile=smoke", "trainer.vectorize=true")
    with caplog.at_level("INFO"):
        group = run_seeds(cfg, [0, 1])
    assert sum("cannot be vectorised" in r.message for r in caplog.records) == 1
    alone = run_trial(
        compose_cfg(
            "experiment=fit1d", "model=kan", "model.impl=pykan", "profile=smoke", "seed=1",
            f"paths.store_dir={tmp_path / 'alone'}",
        )
    )  # fmt: skip
    assert group[1]["history"] == alone["history"]  # sequential within the process: bit-identical


def test_a_group_trained_one_after_another_is_bit_identical(compose_cfg, tmp_path):
    group = run_seeds(compose_cfg("experiment=fit1d", "model=gmnm", "profile=smoke", "trainer.vectorize=false"), [0, 1])
    alone = run_trial(
        compose_cfg(
            "experiment=fit1d", "model=gmnm", "profile=smoke", "seed=1", f"paths.store_dir={tmp_path / 'alone'}"
        )
    )
    assert group[1]["history"] == alone["history"] and group[1]["key"] == alone["key"]


def test_finished_seeds_of_a_group_are_skipped(compose_cfg, tmp_path):
    cfg = compose_cfg("experiment=fit1d", "model=gmnm", "profile=smoke")
    first = run_trial(compose_cfg("experiment=fit1d", "model=gmnm", "profile=smoke", "seed=1"))
    group = run_seeds(cfg, [0, 1, 2])
    assert group[1] == first and group[0]["summary"]["seeds_in_process"] == 2
    assert len(list(ResultStore(tmp_path / "store").records())) == 3


def test_group_seeds():
    jobs = [
        ["model=a", "seed=0"],
        ["model=a", "seed=1"],
        ["model=b", "seed=0"],
        ["model=a", "seed=2"],
        ["model=b", "seed=1"],
        ["model=c", "seed=0"],
        ["model=d"],
    ]
    sizes = {"model=a": 2, "model=b": 8, "model=c": 8, "model=d": 8}
    out = group_seeds(jobs, lambda overrides: sizes[overrides[0]])
    assert out == [
        ["model=a", "seed=0", "seed_group=[0,1]"],
        ["model=a", "seed=2"],
        ["model=b", "seed=0", "seed_group=[0,1]"],
        ["model=c", "seed=0"],
        ["model=d"],
    ]


def runner(tmp_path, *overrides):
    return command(tmp_path, *overrides, multirun=True)


def test_a_sweep_groups_seeds_and_matches_one_without(tmp_path):
    sweep = ["experiment=timeseries", "profile=smoke", "model=lstm3,lstm3_gmnm", "seed=0,1,2", "trainer.dtype=float64"]
    for name, per_process in (("grouped", 3), ("alone", 1)):
        r = subprocess.run(
            runner(tmp_path / name, *sweep, f"trainer.seeds_per_process={per_process}"),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert r.returncode == 0, r.stderr[-2000:]
    grouped = {r["key"]: r for r in ResultStore(tmp_path / "grouped" / "store").records()}
    alone = {r["key"]: r for r in ResultStore(tmp_path / "alone" / "store").records()}
    assert grouped.keys() == alone.keys() and len(grouped) == 6
    assert {r["summary"]["seeds_in_process"] for r in grouped.values()} == {3}
    for key, record in grouped.items():
        assert close(record["summary"]["final_test_mse"], alone[key]["summary"]["final_test_mse"], 1e-9)

        def launch(r):  # the report's view of a launch: without where it wrote and how many seeds per process
            return sorted(o for o in r["overrides"] if not o.startswith(("paths.", "trainer.seeds_per_process")))

        assert launch(record) == launch(alone[key]) and f"seed={record['seed']}" in record["overrides"]


def test_a_sweep_killed_inside_a_group_is_completed_by_rerunning(tmp_path):
    cmd = runner(
        tmp_path,
        "experiment=fit1d",
        "profile=smoke",
        "model=gmnm,mlp_relu",
        "seed=0,1,2,3",
        "task.level=0",
        "trainer.steps=1500",
        "trainer.seeds_per_process=4",
    )
    store = ResultStore(tmp_path / "store")
    before = kill_after(cmd, tmp_path, store, 4)  # the first group is stored; the second is training
    assert 4 <= len(before) < 8
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    after = list(store.records())
    assert len(after) == 8 and len({rec["key"] for rec in after}) == 8
    assert all(before[rec["key"]] == rec for rec in after if rec["key"] in before)  # not re-run
    leftovers = [p for p in (tmp_path / "store").rglob("*") if p.is_file() and not p.name.endswith(".json")]
    assert len(leftovers) <= 1  # at most the temporary file of a record being written at the kill


class _ImageLoss:
    """A task's loss for the ensemble: cross-entropy of a classifier, or the MSE of a reconstruction."""

    def __init__(self, kind: str):
        self.kind = kind

    def loss(self, model, batch):
        import torch.nn.functional as F

        x, y = batch
        out = model(x)
        return F.cross_entropy(out, y) if self.kind == "classify" else F.mse_loss(out, x)


@pytest.mark.parametrize("kind", ["classify", "reconstruct"])
def test_image_models_train_stacked_and_each_seed_gets_its_own_gradient(kind):
    """Channels-last strides cannot be queried under vmap: a stacked CNN or autoencoder runs in the default
    layout (prepare_for_vmap), and each seed's gradient is the one it gets trained alone."""
    import torch

    from baselines.autoencoder import AutoEncoder
    from baselines.cnn import CNN
    from experiments.harness.ensemble import Stacked

    def make(seed: int):
        torch.manual_seed(seed)
        if kind == "classify":
            return CNN(1, 8, 3, channels=[4, 4], hidden=6, attention=True, heads=2).double()
        return AutoEncoder(
            3, 8, latent=4, encoder=[[4, 2], [4, 1]], decoder=[[4, 1], [4, 2]], attention=True, heads=2
        ).double()

    models, task = [make(0), make(1)], _ImageLoss(kind)
    channels = 1 if kind == "classify" else 3
    batches = [(torch.randn(3, channels, 8, 8, dtype=torch.float64), torch.tensor([0, 1, 2])) for _ in models]
    stack = Stacked(models, task)
    opt = torch.optim.Adam(stack.trainable)
    losses = stack.closure(opt, batches)()
    assert losses.shape == (2,)
    for s, (model, batch) in enumerate(zip(models, batches)):
        alone = task.loss(model, batch)
        alone.backward()
        assert float(losses[s].detach()) == pytest.approx(float(alone.detach()), rel=1e-12)
        for name, p in model.named_parameters():
            torch.testing.assert_close(stack.params[name].grad[s], p.grad, rtol=1e-9, atol=1e-12)
    assert models[0].memory_format == torch.channels_last  # the seeds' own modules keep their fast layout
