"""The benchmark scripts at tiny sizes: their tables must add up (parts to the step, steps to the
printed ratios) and their models must be the experiments' own (Tables 2, 4 and 6 sizes)."""

import re

import pytest

from benchmarks import classification_step, timeseries_step


def rows(out: str, first: str) -> dict[str, list[float]]:
    """{model: the numbers of its row} for table rows whose model name starts with `first`."""
    found = {}
    for line in out.splitlines():
        cells = line.split()
        # a part measured as a difference of two timings can dip below 0 on a loaded machine
        if cells and cells[0].startswith(first) and all(re.fullmatch(r"-?[\d.]+", c) for c in cells[1:]):
            found[cells[0]] = [float(c) for c in cells[1:]]
    return found


def test_timeseries_benchmark_adds_up(capsys):
    timeseries_step.main(["--device", "cpu", "--rounds", "1", "--steps", "3"])
    out = capsys.readouterr().out
    table = rows(out, "lstm")
    assert {m: int(r[0]) for m, r in table.items()} == {
        "lstm3": 112,
        "lstm3_gmnm": 509,
        "lstm32": 4897,
        "lstm3_gmnm_paper_count": 4897,  # the second reading: LSTM(32)'s count exactly
    }
    for params, *parts, total, trainer, ratio, _ in table.values():
        assert sum(parts) == pytest.approx(total, abs=0.003)  # the four parts make the step
        # the ratio is printed to 2 decimals from unrounded times, trainer and total to 3: the printed ones' error
        slack = 0.005 + ratio * 0.0005 * (1 / trainer + 1 / total) + 1e-9
        assert trainer / total == pytest.approx(ratio, abs=slack)
    assert (
        "projected paper protocol (4 models x 20 seeds x 50 epochs x 219 steps)" in out
    )  # 7,000 training windows (val_fraction 0.1)


def test_classification_benchmark_adds_up(capsys, monkeypatch, mnist_root):
    monkeypatch.setenv("GMNM_DATA", str(mnist_root))
    classification_step.main(["--device", "cpu", "--rounds", "1", "--steps", "2", "--no-epoch", "--profile", "smoke"])
    out = capsys.readouterr().out
    table = rows(out, "cnn")
    assert {m: int(r[0]) for m, r in table.items()} == {
        "cnn": 28586,
        "cnn_att": 32874,
        "cnn_gmnm": 29946,
        "cnn_gmnm_att": 34234,
    }
    for params, *parts, step, ratio in table.values():
        assert sum(parts) == pytest.approx(step, abs=0.03)
        assert step / table["cnn"][-2] == pytest.approx(ratio, abs=0.002)
    reported = float(re.search(r"CNN\+GMNM / CNN step time: (\d\.\d{3})", out).group(1))
    assert reported == pytest.approx(table["cnn_gmnm"][-1], abs=0.001)


def test_generation_benchmark_adds_up_without_the_data(capsys, monkeypatch, tmp_path):
    from benchmarks import generation_step

    monkeypatch.setenv("GMNM_DATA", str(tmp_path))  # no CIFAR here: random images stand in
    generation_step.main(["--device", "cpu", "--rounds", "1", "--steps", "1", "--batch-sizes", "4", "--no-download"])
    out = capsys.readouterr().out
    assert "random uint8 images" in out
    table = rows(out, "ae")
    assert {m: int(r[0]) for m, r in table.items()} == {
        "ae": 2814019,
        "ae_att": 3225539,
        "ae_gmnm": 2778627,
        "ae_att_gmnm": 3190147,
    }
    for params, *parts, step, ratio in table.values():
        assert sum(parts) == pytest.approx(step, abs=0.03)
        assert step / table["ae"][-2] == pytest.approx(ratio, abs=0.002)


def test_poisson_lsq_benchmark_prints_its_ratio(capsys, monkeypatch):
    from benchmarks import poisson_lsq

    monkeypatch.setattr(poisson_lsq, "TARGET", 0.05)  # smoke sizes reach no paper-level error
    poisson_lsq.main(["--profile", "smoke", "--device", "cpu"])
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["gmnm_lsq"], ["pinn"])}
    lsq_s, pinn_s = float(lines["gmnm_lsq"][3]), float(lines["pinn"][3])
    assert 0 < lsq_s <= float(lines["gmnm_lsq"][2]) and 0 <= pinn_s <= float(lines["pinn"][2])
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(
        r"poisson_lsq: GMNM-LSQ reaches 5\.0e-02 ([\d.]+)x faster than PINN; best mesh MSE (\S+)", last
    )
    assert match and float(match[1]) == pytest.approx(pinn_s / lsq_s, rel=0.02, abs=0.02)  # printed to 0.001 s


def test_the_claims_step_benchmark_writes_what_the_ledger_reads(capsys, tmp_path):
    import json

    from benchmarks import claim_steps
    from experiments.analysis.shapes import step_records

    args = ["--experiments", "mnist", "--store", str(tmp_path), "--device", "cpu", "--rounds", "2", "--steps", "1"]
    assert claim_steps.main(args) == 0  # random images of MNIST's shape: no data set needed
    path = tmp_path / "steps" / "mnist-cpu.json"
    bench = json.loads(path.read_text())
    assert sorted(bench["ms"]) == ["cnn", "cnn_att", "cnn_gmnm", "cnn_gmnm_att"]  # the C8 pairs' models
    assert all(len(v) == 2 and min(v) > 0 for v in bench["ms"].values()) and bench["batch_size"] == 32
    assert bench["threads"] == 1 and len(step_records(tmp_path)) == 8
    assert claim_steps.main(args) == 0 and "kept (--force measures again)" in capsys.readouterr().out
    assert json.loads(path.read_text()) == bench
    assert claim_steps.main(["--experiments", "fit2d", "--store", str(tmp_path)]) == 2
    assert "no timing claim reads fit2d; choose from mnist, cifar10, cifar100, cifar10_ae, cifar100_ae" in (
        capsys.readouterr().err
    )
    assert claim_steps.main([*args, "--rounds", "1"]) == 2 and "--rounds must be at least 2" in capsys.readouterr().err


def test_the_gpu_check_plans_every_experiment_the_timing_claims_and_mnist_epochs(tmp_path, capsys):
    from benchmarks import gpu_check

    assert gpu_check.main(["--device", "cpu", "--dry-run", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "summary.md").read_text()
    assert page.startswith("# GPU check on cpu")
    assert all(f"| smoke {e} |" in page for e in gpu_check.experiments())  # conf/lineup.yaml's, every one
    assert "| step benchmark | `python -m benchmarks.claim_steps --device cpu" in page
    assert [f"| mnist epoch {m} |" in page for m in ("cnn", "cnn_att", "cnn_gmnm", "cnn_gmnm_att")] == [True] * 4
    assert "trainer.epochs=1" in page and page.count("| not run |") == len(gpu_check.plan("cpu", tmp_path))
    assert not (tmp_path / "store").exists()  # a dry run trains nothing
    shares = sum(share for _, _, share in gpu_check.plan("cuda", tmp_path))
    assert shares == pytest.approx(1.0)  # the steps split the budget


def test_the_gpu_check_names_a_bad_device(tmp_path, capsys):
    from benchmarks import gpu_check

    assert gpu_check.main(["--device", "tpu", "--out", str(tmp_path)]) == 2
    assert "--device 'tpu': must be cuda or cpu" in capsys.readouterr().err


def test_classification_benchmark_times_compiled_steps_and_every_epoch(capsys, monkeypatch, mnist_root):
    """--compile: eager and compiled whole steps side by side with the losses' drift (dynamo with the eager
    backend here, so no C++ build); --epoch all: an epoch of every model at the profile's data size."""
    import torch

    monkeypatch.setenv("GMNM_DATA", str(mnist_root))
    plain = torch.nn.Module.compile
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, **kw: plain(self, backend="eager"))
    classification_step.main(["--device", "cpu", "--rounds", "1", "--steps", "2", "--profile", "smoke",
                              "--models", "cnn,cnn_gmnm", "--compile", "--epoch", "all"])  # fmt: skip
    out = capsys.readouterr().out
    after = out.split("torch.compile", 1)[1].splitlines()[2:]  # the table under its header
    compiled = {c[0]: [float(v) for v in c[1:]] for c in map(str.split, after) if len(c) == 6}
    assert set(compiled) == {"cnn", "cnn_gmnm"}
    for eager, fast, ratio, first, _ in compiled.values():
        assert fast / eager == pytest.approx(ratio, abs=0.006) and first < 1e-6  # one graph, one first loss
    epochs = re.findall(r"one mnist epoch of (\w+) \((\d+) steps of 32\)", out)
    assert epochs == [("cnn", "8"), ("cnn_gmnm", "8")]  # smoke: 256 images
