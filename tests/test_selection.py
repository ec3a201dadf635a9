"""Which records a table may hold (experiments/analysis/selection.py), with a hand-made `current`."""

from conftest import fake


def test_select_keeps_the_current_protocol_and_names_what_it_leaves_out():
    from experiments.analysis.selection import Unresolvable, select

    launch = ["experiment=fit2d", "profile=smoke", "model=gmnm", "task.level=1"]
    current = {("gmnm", 1): "new", ("gmnm", 3): "level3", ("kan", 1): "a", ("kan", 2): "b"}

    def now(record):  # what conf/ composes today for the record's launch point
        if record["model"] == "rbf":
            raise Unresolvable("model=rbf: Could not find 'model/rbf'")
        return current[record["model"], record["config"]["task"]["level"]]

    new = [fake("gmnm", 1, seed, 1.0, config_hash="new", overrides=[*launch, f"seed={seed}"]) for seed in (0, 1)]
    old = fake("gmnm", 1, 2, 9.0, config_hash="old", overrides=[*launch, "seed=2"])  # before conf/ changed
    other_level = fake("gmnm", 3, 0, 5.0, config_hash="level3", overrides=[*launch[:3], "task.level=3"])
    own = fake("gmnm", 1, 0, 1e6, config_hash="lr", overrides=[*launch, "trainer.optimizer.lr=1e6"], protocol=False)
    # the Python API with another lr (no overrides on record) never joins the protocol's row either
    script = fake("gmnm", 1, 5, 1e6, config_hash="lr2", overrides=None)
    legacy = fake("kan", 1, 0, 1.0, schema=None)
    removed = fake("rbf", 1, 0, 1.0, config_hash="r", overrides=["experiment=fit2d", "model=rbf"])
    direct = [fake("kan", 1, 0, 2.0, config_hash="a"), fake("kan", 2, 0, 2.0, config_hash="b")]  # Python API
    kept, notes = select(
        [*new, old, other_level, own, script, legacy, removed, *direct], now, sweep_keys=lambda r: ["task.level"]
    )
    assert sorted(r["key"] for r in kept) == sorted(r["key"] for r in [*new, other_level, *direct])
    assert len(notes) == 4
    assert notes[0].startswith("1 record(s) from an older store layout") and "fit2d/kan10h.json" in notes[0]
    assert notes[1].startswith("2 record(s) in 2 configuration(s) other than the experiment's current protocol")
    assert "e.g. trainer.optimizer.lr=1e6" in notes[1] and "fit2d/gmnm10lr.json" in notes[1]
    assert notes[2].startswith("1 stale record(s)") and "fit2d/gmnm12old.json" in notes[2]
    assert notes[3].startswith("1 record(s) whose launch point conf/ no longer composes: fit2d/rbf10r.json")
    assert "Could not find 'model/rbf'" in notes[3]
