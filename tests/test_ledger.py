"""The claims ledger on hand-made records: rows, verdicts, missing data, the paper's own effects, pages."""

import math
from pathlib import Path

import pytest

from experiments.analysis import stats
from experiments.analysis.ledger import render
from experiments.analysis.ledger.build import build, paper_effect
from experiments.analysis.ledger.row import COLUMNS
from experiments.analysis.ledger.spec import Kind, claims
from experiments.harness.records import LABELS
from experiments.harness.tableio import read_rows

ROOT = Path(__file__).resolve().parents[1]
PAPER = {p.name: read_rows(p) for p in (ROOT / "results" / "paper").glob("*.csv")}
FIT_LINEUP = ["gmnm", "kan", "mlp_relu", "mlp_tanh", "gmnm_lsq", "mlp_relu_lsq"]
EQ4 = {
    "_target_": "experiments.poisson.pde.PoissonProblem",
    "exact": "sin(pi*x)*sin(pi*y)",
    "source": "-2*pi**2*sin(pi*x)*sin(pi*y)",
    "boundary": None,
    "domain": [-1.0, 1.0],
}  # conf/pde/sinsin.yaml


def rec(
    experiment, model, seed, commit="abc123", lineup=FIT_LINEUP, level=1, status="complete", protocol="paper", **summary
):
    """A record as the runner writes it, with what the ledger reads; `<m>_lsq` has its head solved."""
    task = {"level": level, **({"pde": EQ4} if experiment == "poisson" else {})}
    lsq = {"lsq": {"steps": 1}, "size_of": model.removesuffix("_lsq")} if model.endswith("_lsq") else {}
    return {
        "experiment": experiment,
        "model": model,
        "seed": seed,
        "status": status,
        "lineup": lineup,
        "protocol_name": protocol,
        "config": {"task": task, **lsq},
        "summary": {"git_commit": commit, "device": "cpu (x86_64, 1 threads)", "wall_time_s": 2.0, **summary},
    }


def fit(scale: dict, seeds=range(5), **kw):
    """fit2d records at level 1: model -> test MSE multiplier (seed s has base loss 1 + s)."""
    return [
        rec("fit2d", m, s, final_test_mse=k * (1 + s) * (1 + 0.05 * (s % 2)), min_test_mse=k * (1 + s), **kw)
        for m, k in scale.items()
        for s in seeds
    ]


def row(rows, claim, case, protocol="paper"):
    """The claim's row of this case (the case itself, else the one case that starts with it) and protocol."""
    mine = [r for r in rows if r["claim"] == claim and r["protocol"] == LABELS[protocol]]
    [r] = [r for r in mine if r["case"] == case] or [r for r in mine if r["case"].startswith(case)]
    return r


def test_only_table_1s_problem_decides_its_claims():
    """A Poisson record is Table 1's when its PDE config is conf/pde/sinsin.yaml's, not by printed text."""
    lineup = ["gmnm", "kan", "pinn"]
    eq4 = [
        rec("poisson", m, s, lineup=lineup, min_l2=k * (1 + s))
        for m, k in (("gmnm", 1.0), ("pinn", 2.0))
        for s in range(3)
    ]
    bump = [{**r, "config": {"task": {"pde": {**EQ4, "exact": "exp(-x**2)", "source": None}}}} for r in eq4]
    alone = row(build(eq4, PAPER, "quick"), "C4", "Eq. 4")
    assert alone["n_seeds"] == 3 and alone["compared_with"] == "pinn"
    assert row(build(eq4 + bump, PAPER, "quick"), "C4", "Eq. 4") == alone
    assert row(build(bump, PAPER, "quick"), "C4", "Eq. 4")["verdict"] == stats.NOT_MEASURED


def test_every_claim_has_a_row_even_with_an_empty_store():
    rows = build([], PAPER, "quick")
    assert {r["claim"] for r in rows} == {f"C{i}" for i in range(1, 26)} | {"B1", "B2", "B3"}
    assert all(r["verdict"] == stats.NOT_MEASURED and r["reason"] for r in rows)
    cifar = [r for r in rows if "cifar" in r["case"] and r["metric"] != "bench_ms_per_step"]
    assert cifar and all("CIFAR" in r["reason"] for r in cifar)
    benched = [r for r in rows if r["metric"] == "bench_ms_per_step"]  # shapes, not images: a command measures them
    assert len(benched) == 5 and all("python -m benchmarks.claim_steps" in r["reason"] for r in benched)
    assert set(COLUMNS) >= {
        "claim",
        "protocol",
        "metric",
        "paper",
        "ours_geomean",
        "ci_low",
        "test",
        "p_claim",
        "p_claim_holm",
        "p_against_holm",
        "improvement",
        "paper_supports",
        "ci_high",
        "effect",
        "effect_ci_low",
        "effect_ci_high",
        "n_seeds",
        "verdict",
        "reason",
    }


def test_a_clear_win_is_reproduced_and_names_the_deciding_competitor():
    rows = build(fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0}), PAPER, "paper")
    r = row(rows, "C2", "fit2d level 1")
    assert r["verdict"] == stats.REPRODUCED and r["compared_with"] == "kan" and r["n_seeds"] == 5
    assert r["test"] == "Welch t on log values" and r["p_claim"] < 0.025 and r["p_claim_holm"] == r["p_claim"]
    assert 0.5 < r["improvement"] <= 1 and r["improvement_ci_low"] <= r["improvement"] <= r["improvement_ci_high"]
    assert r["effect"] == pytest.approx(0.3) and r["effect_ci_low"] <= 0.3 <= r["effect_ci_high"]
    assert r["ours_best"] == pytest.approx(0.3) and r["commits"] == "abc123" and r["devices"] == "cpu"
    assert r["wall_time_s"] == pytest.approx(4 * 5 * 2.0)  # every record the row read: ours and 3 competitors
    resumed = fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})
    resumed[0]["summary"]["wall_time_before_s"] = 7.0  # a trial resumed: its earlier process trained 7 s
    assert row(build(resumed, PAPER, "paper"), "C2", "fit2d level 1")["wall_time_s"] == pytest.approx(4 * 5 * 2.0 + 7.0)
    assert r["ours_geomean"] == pytest.approx(
        stats.geometric_interval([0.3 * (1 + s) * (1 + 0.05 * (s % 2)) for s in range(5)]).estimate
    )


def test_under_a_scaled_down_profile_a_decided_row_is_indicative_and_says_how_it_differs():
    records = fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})
    r = row(build(records, PAPER, "quick", differs={"fit2d": "trainer.steps 2,000 of 20,000"}), "C2", "fit2d level 1")
    assert (r["verdict"], r["reads"]) == (stats.INDICATIVE, stats.REPRODUCED)
    assert r["reason"].startswith("quick, not the paper's protocol (trainer.steps 2,000 of 20,000)")


def test_a_loss_against_one_competitor_contradicts():
    # one competitor of three 10x better: Holm over the three still finds it
    rows = build(fit({"gmnm": 0.3, "kan": 0.03, "mlp_relu": 5.0, "mlp_tanh": 2.0}), PAPER, "paper")
    r = row(rows, "C2", "fit2d level 1")
    assert r["verdict"] == stats.CONTRADICTED and r["compared_with"] == "kan" and r["effect"] == pytest.approx(10.0)


def test_an_absent_competitor_leaves_a_win_inconclusive():
    rows = build(fit({"gmnm": 0.3, "mlp_relu": 5.0, "mlp_tanh": 2.0}), PAPER, "paper")
    r = row(rows, "C2", "fit2d level 1")
    assert r["verdict"] == stats.INCONCLUSIVE and "kan" in r["reason"] and r["not_run"] == "kan"
    assert row(build(fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0}), PAPER, "paper"), "C2",
               "fit2d level 1")["not_run"] == ""  # fmt: skip


def test_too_few_seeds_is_inconclusive():
    rows = build(fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0}, seeds=range(2)), PAPER, "paper")
    r = row(rows, "C2", "fit2d level 1")
    assert r["verdict"] == stats.INCONCLUSIVE and r["n_seeds"] == 2


def test_protocol_rows_exist_only_where_the_protocol_ran():
    records = fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})
    only_paper = [
        r["protocol"] for r in build(records, PAPER, "paper") if r["claim"] == "C2" and "level 1" in r["case"]
    ]
    assert only_paper == ["as written"]
    tuned = fit({"gmnm": 2.0, "kan": 0.5, "mlp_relu": 1.0, "mlp_tanh": 1.0}, protocol="tuned")
    rows = build(records + tuned, PAPER, "paper")
    t = row(rows, "C2", "fit2d level 1", "tuned")
    assert (
        t["verdict"] == stats.CONTRADICTED and t["ours_model"] == "gmnm (tuned)" and t["compared_with"] == "kan (tuned)"
    )


def test_the_tuned_page_sets_each_case_beside_its_as_written_row_and_says_whether_the_verdict_moved():
    written = fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})  # reproduced as written
    tuned = fit({"gmnm": 2.0, "kan": 0.5, "mlp_relu": 1.0, "mlp_tanh": 1.0}, protocol="tuned")  # contradicted
    rows = build(written + tuned, PAPER, "paper")
    table = render.tuned_markdown(rows)
    [line] = [x for x in table.splitlines() if x.startswith("| C2 | fit2d level 1")]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[3].startswith("0.3 [") and cells[5] == stats.REPRODUCED
    assert cells[6].startswith("4 [") and cells[8] == f"**{stats.CONTRADICTED}**" and cells[9] == "yes"
    assert "| C2 | fit2d level 0" not in table and "more case(s) have a tuned row not measured yet" in table
    # a tuned competitor not run yet: the row cannot answer, whatever its verdict reads
    partial = [r for r in tuned if r["model"] != "mlp_tanh"]
    [line] = [x for x in render.tuned_markdown(build(written + partial, PAPER, "paper")).splitlines()
              if x.startswith("| C2 | fit2d level 1")]  # fmt: skip
    assert line.rstrip(" |").endswith("not yet (mlp_tanh not run tuned)")
    assert render.tuned_markdown(build(written, PAPER, "paper")).startswith("No tuned row yet")


def test_the_least_squares_head_is_ours_judged_against_gradient_trained_models():
    """A C-claim is never decided from a least-squares head: those rows are B-claims of ours, said as supported
    or refuted, and their competitors are the models as the paper trains them."""
    written = fit({"gmnm": 30.0, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})
    lsq = fit({"gmnm_lsq": 0.01, "mlp_relu_lsq": 0.001})  # an LSQ-head MLP better still: not GMNM's competitor here
    rows = build(written + lsq, PAPER, "paper")
    assert all(r["protocol"] != LABELS["lsq"] for r in rows)
    assert not [r for r in rows if r["claim"].startswith("C") and "lsq" in str(r.get("ours_model"))]
    assert row(rows, "C2", "fit2d level 1")["verdict"] == stats.CONTRADICTED  # GMNM as the paper trains it
    b2 = row(rows, "B2", "fit2d level 1")
    assert b2["verdict"] == stats.SUPPORTED and b2["ours_model"] == "gmnm_lsq" and b2["compared_with"] == "kan"
    assert b2["beyond_paper"] is True and b2["paper_note"] == "not in the paper"
    lose = build(written + fit({"gmnm_lsq": 300.0}), PAPER, "paper")
    assert row(lose, "B2", "fit2d level 1")["verdict"] == stats.REFUTED


def test_a_failed_competitor_is_named_and_never_decides():
    """A model no better than predicting the mean (median normalised test MSE >= 1) is no competitor."""
    records = fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})
    for r in records:
        r["summary"]["final_test_nmse"] = 1.05 if r["model"] == "kan" else 0.01
    r = row(build(records, PAPER, "paper"), "C2", "fit2d level 1")
    assert r["compared_with"] == "mlp_tanh" and "kan failed" in r["reason"] and "kan" not in r["reason"].split(";")[0]


def test_ratio_claims_set_a_model_against_itself_and_pool_pairs():
    # KAN's final test loss about 20x its minimum in every run: C3's "explodes", paired by run
    kan = [
        rec("fit2d", "kan", s, level=3, final_test_mse=20.0 * (s + 1) * (1 + 0.01 * s), min_test_mse=s + 1.0)
        for s in range(5)
    ]
    r = row(build(kan, PAPER, "paper"), "C3", "fit2d level 3")
    assert r["verdict"] == stats.REPRODUCED and r["effect"] == pytest.approx(20.0, rel=0.03)
    assert r["test"] == "paired t on per-run log ratios"
    quick = row(
        build(kan, PAPER, "quick"), "C3", "fit2d level 3"
    )  # "eventually": a tenth of the steps cannot decide it
    assert quick["verdict"] == stats.INDICATIVE and quick["reads"] == stats.REPRODUCED
    # C7: attention halves the training loss of one pair and leaves the other's: geometric mean 1/sqrt(2)
    mnist = ["cnn", "cnn_att", "cnn_gmnm", "cnn_gmnm_att"]
    half = {"cnn": 1.0, "cnn_att": 0.5, "cnn_gmnm": 1.0, "cnn_gmnm_att": 1.0}
    records = [
        rec(
            "mnist",
            m,
            s,
            lineup=mnist,
            min_train_bce=half[m] * (1 + 0.01 * s),
            min_test_bce=1.0,
            ms_per_step=1.0,
            n_params=1,
        )
        for m in mnist
        for s in range(6)
    ]
    r = row(build(records, PAPER, "paper"), "C7", "mnist, training loss")
    assert r["effect"] == pytest.approx(2**-0.5) and r["verdict"] == stats.REPRODUCED and r["n_seeds"] == 6
    assert r["test"] == "Welch t on log values, the mean of 2 pairs"


def test_the_papers_effect_comes_from_its_own_tables():
    c4 = next(c for c in claims() if c.id == "C4" and not c.reading)
    value, note = paper_effect(c4, PAPER)
    assert value == pytest.approx(5.1e-9 / 3.6e-8) and "kan" in note  # KAN is Table 1's strongest competitor
    c10 = next(c for c in claims() if c.id == "C10" and not c.reading)
    assert paper_effect(c10, PAPER)[0] == pytest.approx(2e-5 / 7e-4)
    c5 = next(c for c in claims() if c.id == "C5" and c.kind is Kind.VALUE and c.ours == "pinn")
    assert paper_effect(c5, PAPER) == (pytest.approx(1.5e-7), "")


def test_every_paper_reference_of_the_spec_exists():
    for claim in claims():
        for metric, (table, column, filters) in claim.paper:
            assert table in PAPER, (claim.id, table)
            assert column in PAPER[table][0] and set(filters) <= set(PAPER[table][0]), (claim.id, column)
        if claim.paper:  # the paper's own effect is computable from what the spec names
            assert not math.isnan(paper_effect(claim, PAPER)[0]), (claim.id, claim.case)


def test_values_are_judged_by_equivalence_under_the_paper_profile_only():
    records = [
        rec("poisson", "gmnm", s, lineup=["gmnm", "kan", "pinn"], min_l2=5.1e-9 * (0.8 + 0.1 * s), n_params=4500)
        for s in range(5)
    ]
    quick = row(build(records, PAPER, "quick"), "C5", "Eq. 4, gmnm's value")
    assert (quick["verdict"], quick["reads"]) == (stats.INDICATIVE, stats.REPRODUCED)
    paper = row(build([{**r, "profile": "paper"} for r in records], PAPER, "paper"), "C5", "Eq. 4, gmnm's value")
    assert paper["verdict"] == stats.REPRODUCED and paper["paper"] == pytest.approx(5.1e-9)
    count = row(build(records, PAPER, "quick"), "C11", "Table 1, gmnm")
    # a count does not depend on training; GMNM's diag reading was chosen for this count: no evidence
    assert count["verdict"] == stats.MATCHED and count["ours_geomean"] == 4500 and "sized" in count["reason"]
    better = [
        {**r, "profile": "paper", "summary": {**r["summary"], "min_l2": r["summary"]["min_l2"] / 10}} for r in records
    ]
    assert row(build(better, PAPER, "paper"), "C5", "Eq. 4, gmnm's value")["verdict"] == stats.OURS_LOWER


def test_a_count_off_by_more_than_one_percent_is_not_reproduced():
    records = [rec("poisson", "kan", 0, lineup=["gmnm", "kan", "pinn"], min_l2=1e-5, n_params=1300)]
    rows = build(records, PAPER, "quick")
    r = [x for x in rows if x["claim"] == "C11" and x["case"] == "Table 1, kan"][0]
    assert r["verdict"] == stats.INCONCLUSIVE and "10,600" in r["reason"]
    # the second reading, sized to the paper's count, is its own row and names its reading
    second = row(rows, "C11", "Table 1, kan_paper_count")
    assert second["reading"] == "KAN at the paper's count"


def test_pages_render_every_row_and_the_readme_block(tmp_path):
    from experiments.harness.tableio import write_csv

    tables = tmp_path / "tables"
    rows = build(fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0}), PAPER, "paper")
    write_csv(tables / "claims_paper.csv", rows, COLUMNS)
    written = render.write(tmp_path)
    assert [p.name for p in written] == ["claims.csv", "CLAIMS.md"]
    assert len(read_rows(tables / "claims.csv")) == len(rows) and list(read_rows(tables / "claims.csv")[0]) == COLUMNS
    page = (tmp_path / "CLAIMS.md").read_text()
    shown = sum(render.decided(r) or render.moves(r) for r in rows)  # decided, or undecided where a read decides
    # every row once by profile, the decided (and moving) ones also first
    assert page.count("\n| C") + page.count("\n| B") == len(rows) + shown and "**reproduced**" in page
    assert "every row below, by profile." in page
    assert "abc123; cpu; 40 s" in page
    short = render.short_markdown(render.all_rows(tables))
    # the decided rows only, the paper's claims and ours apart, then one sentence counting the rest
    assert "**The paper's claims**" in short and "**Our own questions" not in short  # no B row is decided here
    assert "| C2 | fit2d level 1 (a, b, c) = (5, 0, 0) | as written | paper | GMNM best at every level | 0.3 " in short
    assert "| gmnm / kan | **reproduced** |" in short  # what the effect is a ratio of
    shown = sum(render.decided(r) or render.moves(r) for r in rows)  # decided, or undecided where a read decides
    assert "| C11 |" not in short and short.count("\n| C") == shown > sum(render.decided(r) for r in rows)
    assert "every row in [results/CLAIMS.md](results/CLAIMS.md). Under the paper's protocol every seed" in short
    assert render.short_markdown([]) == "No ledger yet: run `make quick`."
    counts = render.counts_markdown(render.all_rows(tables)).splitlines()  # the README's block: one line a side
    verdicts = [r["verdict"] for r in rows]
    header = [c.strip() for c in counts[0].strip("|").split("|")]
    assert header[0] == "rows, profile paper" and set(header[1:]) == set(verdicts)
    cells = dict(zip(header[1:], (int(c) for c in counts[2].strip("|").split("|")[1:])))
    theirs = [r["verdict"] for r in rows if not render.is_ours(r)]
    assert counts[2].startswith("| The paper's claims |")
    assert cells == {v: theirs.count(v) for v in set(verdicts)} and sum(cells.values()) == len(theirs)
    assert render.counts_markdown([]) == "No ledger yet: run `make quick`."


def test_counts_need_shapes_not_data():
    from experiments.analysis.shapes import counts

    shapes = counts(["cifar10", "cifar10_ae"])
    rows = build([], PAPER, "paper", shapes=shapes)
    [cnn] = [r for r in rows if r["claim"] == "C11" and r["case"] == "Table 2, cifar10, cnn"]
    # Table 2: 209,098; our convolutions were narrowed to meet it, so agreement is no evidence
    assert cnn["verdict"] == stats.MATCHED and cnn["ours_geomean"] == 209_066
    # the GMNM models "maintain the smallest parameter count": our counts were sized to the paper's, so they only
    # read it (AE+GMNM does, AE+Att+GMNM does not); the paper's own Table 4 says the same
    smallest = {r["case"]: r for r in rows if r["claim"] == "C15"}
    assert (
        smallest["Table 4, ae_gmnm"]["verdict"] == stats.MATCHED
        and "reads reproduced" in smallest["Table 4, ae_gmnm"]["reason"]
    )
    assert "reads contradicted" in smallest["Table 4, ae_att_gmnm"]["reason"]
    assert smallest["Table 4, ae_att_gmnm"]["paper_supports"] == "no"  # the paper's own table contradicts it
    # a count our build was not sized to meet is evidence: Table 6's LSTM(32) is 9.6x LSTM(3)+GMNM's 100 components
    lstm = build([], PAPER, "paper", shapes=counts(["timeseries"]))
    first = row(lstm, "C11", "Table 6, LSTM(32) over LSTM(3)+GMNM")
    assert (
        first["reading"] == ""
        and first["verdict"] == stats.CONTRADICTED
        and first["effect"] == pytest.approx(4897 / 509)
    )
    second = [r for r in lstm if r["claim"] == "C11" and r["reading"] == "LSTM(3)+GMNM at LSTM(32)'s count"][0]
    assert second["verdict"] == stats.MATCHED and second["effect"] == 1.0
    [loss] = [r for r in rows if r["claim"] == "C6" and r["case"] == "cifar10"]
    assert loss["verdict"] == stats.NOT_MEASURED  # losses still need the images


def test_the_papers_own_tables_against_its_sentence():
    rows = build([], PAPER, "paper")
    # Table 1: GMNM 5.1e-9 against KAN 3.6e-8 is 0.14, not "an order of magnitude" (below 0.1)
    assert row(rows, "C5", "Eq. 4, order of magnitude")["paper_supports"] == "no"
    assert row(rows, "C4", "Eq. 4")["paper_supports"] == "yes"
    # Table 3: both attention models train lower than CNN+GMNM, so "improves training loss" as "below every other
    # model" is refuted by the paper's own numbers; against its base, CNN, it holds (1.837e-3 / 2.812e-3)
    assert row(rows, "C14", "mnist")["paper_supports"] == "no"
    base = row(rows, "C14", "mnist, against CNN")
    assert base["paper_supports"] == "yes" and base["paper"] == pytest.approx(1.837e-3 / 2.812e-3)


def test_the_forest_plot_draws_a_row_per_effect(tmp_path):
    from experiments.analysis.ledger import forest

    rows = build(fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0}), PAPER, "quick")
    shown = forest.plotted(rows)
    assert shown and all(math.isfinite(float(r["effect"])) for r in shown)
    fig = forest.figure(rows, "quick")
    from experiments.analysis.ledger.render import is_ours

    panels = [[r for r in shown if not is_ours(r)], [r for r in shown if is_ours(r)]]
    panels = [part for part in panels if part]  # the paper's claims above, our own questions below
    assert len(fig.axes) == len(panels)
    for ax, part in zip(fig.axes, panels):
        assert [t.get_text() for t in ax.get_yticklabels()] == [
            f"{r['claim']} {r['case']} ({r['protocol']})" for r in reversed(part)
        ]
        # every row marks the side where its claim holds: the arrow's tip below the threshold for "below" claims
        arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]  # rows drawn bottom up
        sided = [r for r in reversed(part) if r.get("direction") in ("below", "above")]
        assert len(arrows) == len(sided)
        for r, a in zip(sided, arrows):
            assert (a.xy[0] < a.xyann[0]) == (r["direction"] == "below")
    assert any(a.texts for a in fig.axes)
    assert forest.figure(build([], PAPER, "quick"), "quick") is None  # nothing measured: no figure


def test_a_profile_says_how_it_differs_from_the_papers_protocol():
    from experiments.analysis.profiles import differences

    assert differences("fit2d", "quick").startswith("trainer.steps 2,000 of 20,000; task.n_train 1,000 of 5,000")
    assert "task.n_train 6,000 of all" in differences("mnist", "quick")
    assert differences("fit2d", "quick").endswith("seeds 3 of 10")  # quick caps the seeds
    assert differences("fit2d", "paper") == ""


def test_timing_claims_read_each_runs_median_step_time():
    from experiments.analysis.ledger.metrics import run_median_ms_per_step

    assert run_median_ms_per_step({"summary": {"ms_per_step": 9.0, "median_ms_per_step": 4.0}}) == 4.0
    assert math.isnan(run_median_ms_per_step({"summary": {"ms_per_step": 9.0}}))  # a mean is not read as a median
    mnist = ["cnn", "cnn_att", "cnn_gmnm", "cnn_gmnm_att"]
    slow = {"cnn": 1.0, "cnn_att": 1.0, "cnn_gmnm": 1.05, "cnn_gmnm_att": 1.05}  # GMNM 5 % slower: below 1.1
    records = [rec("mnist", m, s, lineup=mnist, ms_per_step=50.0, median_ms_per_step=slow[m] * (1 + 0.01 * s),
                   min_train_bce=1.0, min_test_bce=1.0, n_params=1) for m in mnist for s in range(6)]  # fmt: skip
    r = row(build(records, PAPER, "paper"), "C8", "Table 2, mnist, the runs' medians")
    assert r["effect"] == pytest.approx(1.05) and r["reads"] == stats.REPRODUCED
    # each run timed in its own process: shown beside the step benchmark, which decides
    assert r["verdict"] == stats.INDICATIVE and "the step benchmark, which decides" in r["reason"]


def bench_file(store, experiment, ms, device="cpu"):
    """A step benchmark's file as benchmarks/claim_steps.py writes it: {model: [ms per round]}."""
    import json

    path = store / "steps" / f"{experiment}-{device}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"experiment": experiment, "device": device, "device_name": f"{device} (test)",
                                "threads": 1, "git_commit": "abc123", "wall_time_s": 8.0, "ms": ms}))  # fmt: skip


def test_the_step_benchmark_decides_the_timing_claims(tmp_path):
    from experiments.analysis.shapes import step_records

    rounds = lambda k: [k * (10 + 0.1 * i) for i in range(8)]  # noqa: E731 (8 rounds, 1 % apart)
    bench_file(tmp_path, "cifar10", {"cnn_gmnm": rounds(1.02), "cnn": rounds(1.0), "cnn_gmnm_att": rounds(1.04),
                                     "cnn_att": rounds(1.0)})  # fmt: skip
    bench_file(tmp_path, "cifar10_ae", {"ae_gmnm": rounds(1.5), "ae": rounds(1.0), "ae_att_gmnm": rounds(1.5),
                                        "ae_att": rounds(1.0)})  # fmt: skip
    bench_file(tmp_path, "cifar10_ae", {m: rounds(1.0) for m in ("ae", "ae_att", "ae_gmnm", "ae_att_gmnm")}, "cuda")
    shapes = step_records(tmp_path)
    assert len(shapes) == 3 * 4 * 8 and {r["measured_from"] for r in shapes} == {"step benchmark"}
    rows = build([], PAPER, "paper", shapes=shapes)
    cnn = row(rows, "C8", "Table 2, cifar10, step benchmark (cpu)")
    # the paper timed on a GPU: a CPU's step times read, never decide
    assert cnn["effect"] == pytest.approx(math.sqrt(1.02 * 1.04)) and cnn["verdict"] == stats.INDICATIVE
    assert cnn["reads"] == stats.REPRODUCED and "the paper timed on a GPU" in cnn["reason"]
    assert cnn["n_seeds"] == 8 and cnn["devices"] == "cpu" and "Welch" in cnn["test"]
    edge = [11.0 * (1 + 0.1 * (-1) ** i) for i in range(8)]  # GMNM's rounds 1.1x the base's, +-10 %: no side
    bench_file(tmp_path, "cifar100", {"cnn_gmnm": edge, "cnn": [10.0] * 8, "cnn_gmnm_att": edge,
                                      "cnn_att": [10.0] * 8})  # fmt: skip
    mixed = row(
        build([], PAPER, "paper", shapes=step_records(tmp_path)), "C8", "Table 2, cifar100, step benchmark (cpu)"
    )
    # reading inconclusive on a CPU is still no test of a GPU claim: indicative, with the reason
    assert mixed["reads"] == stats.INCONCLUSIVE and mixed["verdict"] == stats.INDICATIVE
    assert "the paper timed on a GPU" in mixed["reason"]
    ae = row(rows, "C8", "Table 4, cifar10, step benchmark (cpu)")  # 1.5x slower: not "no noticeable slowdown"
    assert ae["reads"] == stats.CONTRADICTED and ae["paper"] == pytest.approx(math.sqrt(17 / 23 * 20 / 25))
    gpu = row(rows, "C8", "Table 4, cifar10, step benchmark (cuda)")
    assert gpu["effect"] == pytest.approx(1.0) and gpu["verdict"] == stats.REPRODUCED  # the paper's class of device
    # no benchmark of MNIST in this store: not measured, and the row says what to run
    missing = row(rows, "C8", "Table 2, mnist, step benchmark")
    assert missing["verdict"] == stats.NOT_MEASURED and "benchmarks.claim_steps" in missing["reason"]
    quick = row(build([], PAPER, "quick", shapes=shapes), "C8", "Table 2, cifar10, step benchmark (cpu)")
    assert quick["verdict"] == stats.INDICATIVE and quick["reads"] == stats.REPRODUCED


def test_the_shapes_table_sets_step_times_beside_the_papers(tmp_path):
    from experiments.analysis.shapes import ShapesReport, counts, step_records
    from experiments.harness.family import Context
    from experiments.harness.tableio import read_csv

    bench_file(tmp_path, "cifar10", {"cnn_gmnm": [3.0, 2.0, 9.0], "cnn": [2.0, 1.0, 4.0], "cnn_gmnm_att": [4.0] * 3,
                                     "cnn_att": [5.0] * 3})  # fmt: skip
    paper = {p.stem: read_csv(p) for p in (ROOT / "results" / "paper").glob("*.csv")}
    table = ShapesReport().tables(counts(["cifar10"]) + step_records(tmp_path), Context(tmp_path, "paper", paper))
    t = table["shapes"].set_index("model")
    assert t.loc["cnn_gmnm", "ms_per_step"] == 3.0 and t.loc["cnn_gmnm", "ms_min"] == 2.0  # median and range
    assert t.loc["cnn_gmnm", "over_base"] == 1.5 and t.loc["cnn_att", "over_base"] != t.loc["cnn_att", "over_base"]
    assert t.loc["cnn_gmnm_att", "over_base"] == pytest.approx(0.8)  # over CNN+Att's 5.0
    assert t.loc["cnn", "n_params"] == 209_066 and t.loc["cnn", "paper_n_params"] == 209_098
    assert t.loc["cnn_gmnm", "paper_over_base"] == pytest.approx(1.0)  # Table 2: 3 ms and 3 ms


def curve_records(scale: dict, protocol="paper", spread=0.05):
    """fit2d level 1 records with a test-loss history: model -> (its minimum, its final value) per seed unit."""
    out = []
    for m, (low, last) in scale.items():
        for s in range(5):
            k = (1 + spread * s) * (1 + 0.01 * (s % 2))
            values = [5.0 * k, low * k, low * k, low * k, last * k]
            history = [{"step": 100 * i, "test_mse": v, "train_mse": v} for i, v in enumerate(values)]
            out.append({**rec("fit2d", m, s, protocol=protocol, final_test_mse=last * k, min_test_mse=low * k),
                        "history": history})  # fmt: skip
    return out


def test_a_verdict_that_moves_with_the_read_of_the_curve_is_estimator_sensitive():
    # GMNM's minimum a tenth of everyone's, its final value no better: the read decides the verdict
    records = curve_records({"gmnm": (0.1, 1.0), "kan": (1.0, 1.0), "mlp_relu": (1.0, 1.0), "mlp_tanh": (1.0, 1.0)})
    r = row(build(records, PAPER, "paper"), "C2", "fit2d level 1")
    assert r["metric"] == "final_test_mse" and r["verdict"] == stats.INCONCLUSIVE  # the sentence's read decides
    assert r["estimators"] == "final: inconclusive; minimum: reproduced; mean of the last 10 %: inconclusive"
    assert r["estimator_sensitive"] == "yes"
    steady = curve_records({"gmnm": (0.1, 0.1), "kan": (1.0, 1.0), "mlp_relu": (1.0, 1.0), "mlp_tanh": (1.0, 1.0)})
    assert row(build(steady, PAPER, "paper"), "C2", "fit2d level 1")["estimator_sensitive"] == "no"


def test_the_data_redrawn_is_a_column_of_the_as_written_row():
    scale = {"gmnm": (0.1, 0.1), "kan": (1.0, 1.0), "mlp_relu": (1.0, 1.0), "mlp_tanh": (1.0, 1.0)}
    records = curve_records(scale) + curve_records(scale, protocol="redrawn", spread=0.3)
    rows = build(records, PAPER, "paper")
    r = row(rows, "C2", "fit2d level 1")
    assert r["verdict"] == stats.REPRODUCED and r["redrawn_verdict"] == stats.REPRODUCED and r["redrawn_n"] == 5
    assert r["redrawn_width_ratio"] > 1  # the seeds' spread now covers the data draw too
    assert r["redrawn_ci_low"] <= r["redrawn_effect"] <= r["redrawn_ci_high"]
    assert not [x for x in rows if x["protocol"] == LABELS["redrawn"]]  # no row of its own
    assert r["n_seeds"] == 5 and r["wall_time_s"] == pytest.approx(4 * 5 * 2.0)  # it read the paper's records only


def test_the_conclusion_joins_the_decided_rows():
    win = fit({"gmnm": 0.01, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})
    [c25] = [r for r in build(win, PAPER, "paper") if r["claim"] == "C25"]
    assert c25["verdict"] == stats.REPRODUCED and "2 reproduced, 0 contradicted" in c25["reason"]  # C2 and C12
    lose = fit({"gmnm": 30.0, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0})
    [c25] = [r for r in build(lose, PAPER, "paper") if r["claim"] == "C25"]
    assert c25["verdict"] == stats.CONTRADICTED and "C2 fit2d level 1" in c25["reason"]
    [none] = [r for r in build([], PAPER, "paper") if r["claim"] == "C25"]
    assert none["verdict"] == stats.NOT_MEASURED


def test_a_row_is_its_columns_and_refuses_a_field_it_does_not_have():
    from experiments.analysis.ledger.row import Row

    row = Row("C1", "fit1d level 0").update(verdict=stats.REPRODUCED, kind=Kind.RANK)
    assert list(row.written()) == COLUMNS and "kind" not in COLUMNS and row.written()["verdict"] == stats.REPRODUCED
    with pytest.raises(AttributeError, match="no field 'verdicts'"):
        row.update(verdicts=stats.REPRODUCED)


def test_a_ratio_claim_on_a_curve_reads_every_side_the_other_ways():
    # C7: attention halves the minimum training loss of both pairs, but every model ends where it began
    mnist = ["cnn", "cnn_att", "cnn_gmnm", "cnn_gmnm_att"]
    low = {"cnn": 1.0, "cnn_att": 0.5, "cnn_gmnm": 1.0, "cnn_gmnm_att": 0.5}
    records = []
    for m in mnist:
        for s in range(6):
            k = 1 + 0.01 * s
            curve = [2.0 * k, low[m] * k, 2.0 * k]  # the minimum in the middle, the end back at the start
            history = [{"step": i, "train_bce": v, "test_bce": 1.0} for i, v in enumerate(curve)]
            records.append({**rec("mnist", m, s, lineup=mnist, min_train_bce=low[m] * k, final_train_bce=2.0 * k,
                                  min_test_bce=1.0, n_params=1), "history": history})  # fmt: skip
    r = row(build(records, PAPER, "paper"), "C7", "mnist, training loss")
    assert r["verdict"] == stats.REPRODUCED and r["estimator_sensitive"] == "yes"
    assert r["estimators"] == "minimum: reproduced; final: inconclusive; mean of the last 10 %: inconclusive"


def test_a_second_reading_is_its_own_row_and_names_itself():
    """Table 1's KAN at the paper's count: C4 again against it, the first reading's row unchanged."""
    lineup = ["gmnm", "kan", "pinn", "kan_paper_count"]
    scale = {"gmnm": 1.0, "kan": 10.0, "pinn": 10.0, "kan_paper_count": 0.1}
    records = [
        rec("poisson", m, s, lineup=lineup, min_l2=k * (1 + 0.1 * s)) for m, k in scale.items() for s in range(5)
    ]
    rows = build(records, PAPER, "paper")
    first, second = row(rows, "C4", "Eq. 4"), row(rows, "C4", "Eq. 4, KAN at the paper's count")
    assert first["reading"] == "" and first["verdict"] == stats.REPRODUCED
    assert second["reading"] == "KAN at the paper's count" and second["compared_with"] == "kan_paper_count"
    assert second["verdict"] == stats.CONTRADICTED
    assert "kan 3.6e-08" in second["paper_note"]  # the paper's own KAN stands for the reading's


def test_rows_an_earlier_ledger_wrote_are_shown_as_such_and_never_decided(tmp_path):
    from experiments.harness.tableio import write_csv

    tables = tmp_path / "tables"
    rows = build(fit({"gmnm": 0.3, "kan": 1.0, "mlp_relu": 5.0, "mlp_tanh": 2.0}), PAPER, "paper")
    old = [{k: v for k, v in r.items() if k != "section"} | {"profile": "quick"} for r in rows]
    write_csv(tables / "claims_paper.csv", rows, COLUMNS)
    write_csv(tables / "claims_quick.csv", old, [c for c in COLUMNS if c != "section"])  # before `section` existed
    render.write(tmp_path)
    page = (tmp_path / "CLAIMS.md").read_text()
    assert page.count("*These rows were written by the ledger before the paper's claims were judged") == 1
    every = render.all_rows(tables)
    assert not [r for r in every if r["profile"] == "quick" and render.decided(r)]
    assert f"{len(old)} from an earlier ledger (to be judged again when re-run)" in render.short_markdown(every)


def test_fixed_centres_are_read_from_each_ablation_wherever_it_keeps_its_keys():
    # C24 compares the diag reading with fixed centres against trainable ones; eq3_fit2d varies model.projection,
    # eq3_mnist its head's (model.head.projection): the same claim reads both, fixed 2x trainable
    def ablation(experiment, model, metric, prefix):
        varies = [f"{prefix}.projection", f"{prefix}.trainable_mu"]
        out = []
        for projection, trainable, scale in (("diag", False, 2.0), ("diag", True, 1.0), ("full", False, 50.0)):
            r = rec(experiment, model, 0, lineup=[model], **{metric: 0.0})
            head = {"projection": projection, "trainable_mu": trainable}
            r["config"].update(ablation={"varies": varies}, model={"head": head} if "head" in prefix else head)
            out += [{**r, "seed": s, "summary": {**r["summary"], metric: scale * (1 + 0.01 * s)}} for s in range(6)]
        return out

    records = ablation("eq3_fit2d", "gmnm", "final_test_mse", "model") + ablation(
        "eq3_mnist", "cnn_gmnm", "min_test_bce", "model.head"
    )
    rows = build(records, PAPER, "paper")
    for case in ("eq3_fit2d", "eq3_mnist"):
        r = row(rows, "C24", case)
        assert r["effect"] == pytest.approx(2.0) and r["n_seeds"] == 6 and r["verdict"] == stats.REPRODUCED
    assert row(rows, "C24", "eq3_poisson")["verdict"] == stats.NOT_MEASURED
