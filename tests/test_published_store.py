"""results/store/: the published records behind results/tables/*_paper.csv must stay usable by the report."""

import re

import pytest

from experiments.analysis.selection import CurrentProtocol, select
from experiments.harness.env import ROOT
from experiments.harness.records import PROTOCOLS
from experiments.harness.store import FINISHED, ResultStore

PUBLISHED = ROOT / "results" / "store"


def published() -> list[dict]:
    store = ResultStore(PUBLISHED)
    records = list(store.records())
    assert not store.skipped, f"unreadable published records: {store.skipped[:3]}"
    return records


@pytest.fixture(scope="module")
def records() -> list[dict]:
    found = published()
    if not found:
        pytest.skip("results/store holds no records yet")
    return found


def test_published_store_holds_only_finished_records_of_the_papers_profile(records):
    """Of the paper's profile, finished, of a protocol the report shows (as written, with the data redrawn,
    tuned), and at least the paper's own; a tuning study's runs (on validation data, kept apart in the tuning
    tables) may also have been stopped by its pruner, and each names its study."""
    for r in records:
        assert r["profile"] == "paper", f"{r['experiment']}/{r['key']}: profile {r['profile']}"
        tuning = r.get("tuning_study")
        allowed = (*FINISHED, "pruned") if tuning else FINISHED
        assert r["status"] in allowed, f"{r['experiment']}/{r['key']}: status {r['status']}"
        assert r.get("protocol_name", "paper") in PROTOCOLS
        assert not tuning or tuning.endswith("/paper"), f"{r['experiment']}/{r['key']}: study {tuning}"
    assert any(r.get("protocol_name", "paper") == "paper" for r in records)


def test_published_records_come_from_clean_commits(records):
    # provenance names the code each trial ran; a record of uncommitted code names none
    for r in records:
        commit = r["summary"]["git_commit"]
        assert re.fullmatch(r"[0-9a-f]{12}", commit), f"{r['experiment']}/{r['key']}: commit {commit!r}"


def test_published_records_are_of_the_current_protocol(records):
    """A change to conf/ that alters a published trial's configuration makes the report leave it out;
    this says so here, before the tables lose rows: re-run that sweep into results/store."""
    studies = [r for r in records if r.get("tuning_study")]  # the tuning tables', never a paper table's
    with CurrentProtocol(ROOT / "conf") as current:
        kept, notes = select(records, current, current.keys_of)
    assert len(kept) == len(records) - len(studies), notes
