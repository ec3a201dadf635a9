import pytest

from experiments.harness.store import ResultStore, StoreError


def record(key, status="complete"):
    return {"key": key, "experiment": "fit2d", "status": status, "history": []}


def test_put_get_and_listing(tmp_path):
    store = ResultStore(tmp_path)
    store.put(record("k1"))
    store.put(record("k2", "diverged"))
    (tmp_path / "fit2d" / ".leftover.tmp").write_text("{")  # a writer killed mid-write
    assert [r["key"] for r in store.records()] == ["k1", "k2"]
    assert store.finished("fit2d", "k1") and store.finished("fit2d", "k2")
    assert store.finished("fit2d", "k3") is None
    assert sorted(p.name for p in (tmp_path / "fit2d").iterdir()) == [".leftover.tmp", "k1.json", "k2.json"]
    (tmp_path / "steps").mkdir()  # the step benchmark's measurements sit beside the experiments: not records
    (tmp_path / "steps" / "mnist-cpu.json").write_text('{"experiment": "mnist", "ms": {}}')
    assert [r["key"] for r in store.records()] == ["k1", "k2"] and not store.skipped


def test_failed_write_leaves_nothing(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(TypeError):
        store.put({**record("k1"), "bad": object()})
    assert not (tmp_path / "fit2d").exists()  # not even a temporary file: the record is encoded first


@pytest.mark.parametrize(
    "text,why",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a JSON list, not a record"),
        ('{"key": "k1"}', "no experiment, status"),
        ('{"key": "k9", "experiment": "fit2d", "status": "complete"}', "holds the record of trial k9, not k1"),
    ],
)
def test_unreadable_record_is_skipped_and_counted_by_readers(tmp_path, text, why):
    store = ResultStore(tmp_path)
    store.put(record("k0"))
    (tmp_path / "fit2d" / "k1.json").write_text(text)
    assert [r["key"] for r in store.records()] == ["k0"]  # the report goes on with the rest
    [skipped] = store.skipped
    assert skipped.path == tmp_path / "fit2d" / "k1.json" and why in skipped.why
    assert (tmp_path / "fit2d" / "k1.json").read_text() == text  # a reader moves nothing


def test_unreadable_record_is_moved_aside_by_the_runner_and_its_trial_runs_again(tmp_path, caplog):
    store = ResultStore(tmp_path)
    (tmp_path / "fit2d").mkdir()
    (tmp_path / "fit2d" / "k1.json").write_text("{truncated")
    with caplog.at_level("WARNING"):
        assert store.finished("fit2d", "k1") is None  # absent, so its trial is trained again
    [moved] = (tmp_path / "fit2d" / "corrupt").iterdir()
    assert moved.name.startswith("k1.") and moved.read_text() == "{truncated"  # kept for a look
    assert not (tmp_path / "fit2d" / "k1.json").exists()
    [warning] = caplog.records
    assert "k1.json is not a readable record" in warning.getMessage() and str(moved) in warning.getMessage()
    store.put(record("k1"))
    assert [r["key"] for r in store.records()] == ["k1"]  # the folder of moved records is not read


def test_store_check_creates_nothing_and_names_the_folder(tmp_path):
    ResultStore(tmp_path / "new" / "store").check_writable("fit2d")  # a folder that does not exist yet: fine
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "afile").write_text("")
    with pytest.raises(
        StoreError, match=r"cannot be written at .*afile/store/fit2d \(.*afile is a file, not a folder\)"
    ):
        ResultStore(tmp_path / "afile" / "store").check_writable("fit2d")


def test_read_only_store_fails_before_any_training(tmp_path, monkeypatch):
    import errno
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(StoreError, match="Read-only file system.*point paths.store_dir at a folder you can write"):
        ResultStore(tmp_path).check_writable("fit2d")
