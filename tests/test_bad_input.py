"""Every bad input a careful user tried, from the command line: exit 2, one line naming the key
(or file) and what is allowed, no traceback, and the result store as it was (here: absent)."""

import os

import pytest
from conftest import run_cli


def run(tmp_path, *overrides, multirun=False, env=None):
    return run_cli(tmp_path, "profile=smoke", *overrides, multirun=multirun, env=env)


def refused(r, tmp_path, *expected):
    assert r.returncode == 2, r.stderr[-2000:]
    [line] = [x for x in r.stderr.strip().splitlines() if not x.startswith("[")]  # Hydra's log lines aside
    assert line.startswith("error: ") and "Traceback" not in r.stderr
    for text in expected:
        assert text in line
    assert not (tmp_path / "store").exists()  # nothing half-written, not even a folder
    assert os.listdir(tmp_path / "cwd") == []
    return line


BAD = [
    (["experiment=fit2d", "seed=abc"], ["seed='abc': must be an integer >= 0"]),
    (["experiment=fit2d", "seed=1.5"], ["seed=1.5: must be an integer >= 0"]),
    (["experiment=fit2d", "trainer.optimizer.lr=fast"], ["trainer.optimizer.lr='fast': must be a number > 0"]),
    (
        ["experiment=fit2d", "trainer.batch_size=0"],
        ["trainer.batch_size=0: must be an integer >= 1, or null (full batch)"],
    ),
    (["experiment=timeseries", "trainer.epochs=-1"], ["trainer.epochs=-1: must be an integer >= 1"]),
    (["experiment=fit2d", "task.n_train=0"], ["task.n_train=0: must be an integer >= 2"]),
    (["experiment=fit2d", "task.level=7"], ["task.level=7: must be one of 0, 1, 2, 3"]),
    (["experiment=poisson", "trainer.finetune.steps=0"], ["trainer.finetune.steps=0: must be an integer >= 1"]),
    (["experiment=mnist", "trainer.dtype=float16"], ["trainer.dtype='float16': must be one of float32, float64"]),
    (
        ["experiment=timeseries", "trainer.vectorize=maybe"],
        ["trainer.vectorize='maybe': must be one of true, false, auto"],
    ),
    (
        ["experiment=mnist", "paths.data_dir=/nonexistent/gmnm-mnist"],
        ["the data folder /nonexistent/gmnm-mnist does not exist", "paths.data_dir"],
    ),
    (["experiment=fit2d", "sizes.gmnm.n_components=0"], ["model=gmnm cannot be built from its config"]),
    # a key added with + that nothing reads: a typo would otherwise train, under a key of its own
    (["experiment=fit2d", "+trainer.stepz=5"], ["+trainer.stepz=5: trainer has no key 'stepz'", "trainer.steps"]),
    (["experiment=fit2d", "+model.sigma_scal=2"], ["gmnm.GMNM takes no argument 'sigma_scal'", "model.sigma_scale"]),
]


@pytest.mark.parametrize("overrides,expected", BAD)
def test_bad_value_is_refused_before_any_work(compose_cfg, tmp_path, overrides, expected):
    # in one process: the runner's own checks, in the order `python -m experiments.run` makes them
    from experiments.harness.errors import UserError
    from experiments.harness.runner import run_seeds

    cfg = compose_cfg("profile=smoke", *overrides)
    with pytest.raises(UserError) as error:
        run_seeds(cfg, [cfg.seed], overrides=["profile=smoke", *overrides])  # as the command line hands them on
    assert all(text in str(error.value) for text in expected) and "\n" not in str(error.value)
    assert not (tmp_path / "store").exists()  # nothing half-written, not even a folder
    assert not os.path.exists("/nonexistent/gmnm-mnist")  # no folder made for a path that does not exist


def test_a_bad_value_from_the_command_line_is_one_line_and_exit_2(tmp_path):
    refused(
        run(tmp_path, "experiment=fit2d", "seed=abc", "task.level=7"),
        tmp_path,
        "seed='abc': must be an integer >= 0",
        "task.level=7: must be one of 0, 1, 2, 3",
    )  # every bad key at once


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (["experiment=fit2d", "seed=0,abc"], ["seed='abc' (of seed_group=[0, 'abc'])"]),
        (
            ["experiment=fit2d", "trainer.optimizer.lr=0.1,fast", "hydra/launcher=joblib"],
            ["trainer.optimizer.lr='fast': must be a number > 0"],
        ),
    ],
)
def test_a_sweep_is_checked_whole_before_its_first_job(tmp_path, overrides, expected):
    refused(run(tmp_path, *overrides, multirun=True), tmp_path, *expected)


def test_full_traceback_on_request(tmp_path):
    r = run(tmp_path, "experiment=fit2d", "seed=abc", env={"HYDRA_FULL_ERROR": "1"})
    assert r.returncode != 0 and "Traceback" in r.stderr and "ConfigError: seed='abc'" in r.stderr


def test_unwritable_store_fails_before_training(tmp_path):
    (tmp_path / "afile").write_text("")
    r = run(tmp_path, "experiment=fit2d", f"paths.store_dir={tmp_path / 'afile' / 'store'}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "the result store cannot be written at" in r.stderr and "paths.store_dir" in r.stderr
    assert "complete fit2d" not in r.stdout  # nothing trained


@pytest.fixture
def damaged_mnist(tmp_path, mnist_root):
    """A data root with the real MNIST, its training images cut short."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in (mnist_root / "MNIST" / "raw").iterdir():
        if f.name == "train-images-idx3-ubyte":
            (raw / f.name).write_bytes(f.read_bytes()[:1_000_000])
        else:
            (raw / f.name).symlink_to(f)
    return tmp_path / "data"


def test_truncated_data_file_is_named_not_called_missing(tmp_path, damaged_mnist):
    line = refused(
        run(tmp_path, "experiment=mnist", f"paths.data_dir={damaged_mnist}"),
        tmp_path,
        "train-images-idx3-ubyte: truncated: 1,000,000 bytes, its header says 47,040,016",
    )
    assert "not found" not in line


def test_fetch_exit_codes_tell_missing_from_damaged(tmp_path, damaged_mnist, mnist_root, capsys):
    from experiments.harness.fetch import main

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["fit2d"]) == 0  # generated data: nothing to fetch
    assert main(["mnist", f"paths.data_dir={mnist_root}"]) == 0
    assert main(["cifar9"]) == 2 and main([]) == 2  # no such experiment; no experiment named
    capsys.readouterr()
    assert main(["mnist", f"paths.data_dir={empty}", "task.download=false"]) == 3
    missing = capsys.readouterr().err
    assert "not found in" in missing and "missing: train-images" in missing
    assert main(["mnist", f"paths.data_dir={damaged_mnist}", "task.download=false"]) == 4
    assert "train-images-idx3-ubyte: truncated" in capsys.readouterr().err
    assert list(empty.iterdir()) == []


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["experiment=fit2dd"], "experiment=fit2dd: no such experiment (conf/experiment has "),
        (["experiment=mnist", "model=cnn_gmmn"], "experiment=mnist takes cnn, cnn_att, cnn_gmnm, cnn_gmnm_att)"),
        (["profile=smok"], "profile=smok: no such profile (conf/profile has paper, quick, smoke); did you mean smoke?"),
        (["-m", "model=gmnm,kann"], "model=kann: no such model"),
    ],
)
def test_a_mistyped_name_is_one_line_with_the_closest(argv, expected):
    from experiments.harness.errors import ConfigError
    from experiments.harness.names import check_names

    with pytest.raises(ConfigError, match="did you mean") as error:
        check_names(argv)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_a_mistyped_model_from_the_command_line_exits_2_before_hydra(tmp_path):
    line = refused(run(tmp_path, "experiment=fit2d", "model=gmmn"), tmp_path, "model=gmmn: no such model")
    assert line.endswith("did you mean gmnm?")


def test_a_model_without_its_sizes_entry_names_the_entry_to_add():
    from conftest import compose
    from omegaconf import open_dict

    from experiments.harness.config import check_model
    from experiments.harness.errors import ConfigError

    cfg = compose("experiment=fit2d", "model=kan")
    with open_dict(cfg):
        del cfg.sizes["kan"]  # a new model whose experiment file has no sizes for it
    with pytest.raises(ConfigError, match=r"add sizes.kan to conf/experiment/fit2d.yaml") as error:
        check_model(cfg)
    assert "model.hidden" in str(error.value) and "\n" not in str(error.value)


def test_an_override_hydra_cannot_parse_is_one_line(tmp_path):
    r = run(tmp_path, "experiment=fit2d", "trainer.steps=${oops:{a:1}}")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-1000:]
    assert lines[0].startswith("error: trainer.steps=${oops:{a:1}}: ") and "override_grammar" in lines[0]
