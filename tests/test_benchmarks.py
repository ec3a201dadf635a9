"""The benchmark scripts run and print their ratios (tiny sizes: this checks they work, not speed)."""

import re

from benchmarks import classification_step, timeseries_step


def test_timeseries_benchmark_runs(capsys):
    timeseries_step.main(["--device", "cpu", "--rounds", "1", "--steps", "3"])
    out = capsys.readouterr().out
    assert re.search(r"^lstm3_gmnm\s+509\s", out, re.M)
    assert "projected paper protocol (3 models x 20 seeds x 50 epochs x 250 steps)" in out


def test_classification_benchmark_runs(capsys, monkeypatch, mnist_root):
    monkeypatch.setenv("GMNM_DATA", str(mnist_root))
    classification_step.main(["--device", "cpu", "--rounds", "1", "--steps", "2", "--no-epoch",
                              "--models", "cnn,cnn_gmnm"])
    out = capsys.readouterr().out
    assert re.search(r"^cnn_gmnm\s+29946\s", out, re.M)
    assert re.search(r"CNN\+GMNM / CNN step time: \d\.\d{3}", out)


def test_generation_benchmark_runs_without_the_data(capsys, monkeypatch, tmp_path):
    from benchmarks import generation_step
    monkeypatch.setenv("GMNM_DATA", str(tmp_path))  # no CIFAR here: random images stand in
    generation_step.main(["--device", "cpu", "--rounds", "1", "--steps", "1", "--batch-sizes", "4", "--no-download"])
    out = capsys.readouterr().out
    assert "random uint8 images" in out and re.search(r"^  ae_gmnm\s+2778627\s", out, re.M)
    assert re.search(r"AE\+GMNM / AE step time at batch 4: \d\.\d{3}", out)
