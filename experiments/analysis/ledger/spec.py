"""The paper's claims, each as what to compare in the store and how to judge it.

A claim names an experiment, the records it reads (a case: a fit level, a data set), a metric (a key
of the records' summaries) and a kind of test:

- rank:   `ours` below every model of `others` (the strongest of them by geometric mean decides);
          effect = ours / strongest, per seed.
- ratio:  the geometric mean over `pairs` of numerator / denominator, per seed; each side a
          (model, metric) so a model can be set against itself (KAN's final loss over its minimum).
- value:  the paper's number for `ours` inside our 95 % interval of the mean.

`judged_under` names the profiles whose runs can decide a claim; elsewhere the row shows what was
measured and stays inconclusive, with `why`: a value needs the paper's protocol (a scaled-down
one should not match it), and so does a claim about what long training eventually does.
- count:  our parameter count within `tolerance` of the paper's (a count needs one record).

`threshold` and `direction` say what the effect must do ("below 1": GMNM's loss lower). The paper's
numbers come from results/paper/*.csv, never from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from experiments.poisson.report import is_paper_problem

# The ledger's protocols: the paper's as written, the tuned protocol's rows (make tune's values), and the
# least-squares variants of the models that have one (experiments/harness/variants.py).
PROTOCOLS = ("paper", "tuned", "lsq")
PROTOCOL_LABELS = {"paper": "as written", "tuned": "tuned", "lsq": "LSQ head"}
NO_CIFAR = "no CIFAR trials in the store (the data set is not on this machine; make reproduce downloads it)"
FIT_COMPETITORS = ("kan", "mlp_relu", "mlp_tanh")  # Fig. 2's lineup (RBF is ours, beyond the paper)


class Kind(Enum):
    RANK = "rank"
    RATIO = "ratio"
    VALUE = "value"
    COUNT = "count"


@dataclass(frozen=True)
class Claim:
    id: str
    case: str
    statement: str  # what the paper says, in a line
    experiment: str
    metric: str
    kind: Kind
    ours: str = ""  # the model the claim is about (rank, value, count)
    others: tuple[str, ...] = ()  # rank: the competitors
    pairs: tuple[tuple[tuple[str, str], tuple[str, str]], ...] = ()  # ratio: ((model, metric), (model, metric))
    select: tuple[tuple[str, object], ...] = ()  # values the records must have: a record key, or a dotted config key
    where: Callable[[dict], bool] | None = None  # a test the records must pass (Table 1's problem: is_paper_problem)
    threshold: float = 1.0
    direction: str = "below"
    # where the paper's numbers are, per metric: (csv of results/paper, column, {column: value}); the row of a
    # model adds {"model": model}. The ledger computes the paper's own effect from them, as it does ours.
    paper: tuple = ()  # ((metric, (csv, column, filters)), ...)
    paper_text: str = ""  # the paper's statement where it gives no number
    protocols: tuple[str, ...] = PROTOCOLS
    judged_under: tuple[str, ...] | None = None  # None: every profile
    why: str = ""  # why other profiles cannot decide it
    tolerance: float = 0.01
    missing: str = ""  # why it cannot be measured when no record exists


def _fit(cid: str, experiment: str, where: str) -> list[Claim]:
    from experiments.fitting.targets import LEVELS

    return [
        Claim(
            cid,
            f"level {i} (a, b, c) = ({a:g}, {b:g}, {c:g})",
            f"{where}: GMNM's test loss below KAN's and both MLPs'",
            experiment,
            "final_test_mse",
            Kind.RANK,
            ours="gmnm",
            others=FIT_COMPETITORS,
            select=(("task.level", i),),
            paper_text="GMNM best at every level",
        )
        for i, (a, b, c) in enumerate(LEVELS)
    ]


def _classification(dataset: str) -> list[Claim]:
    missing = "" if dataset == "mnist" else NO_CIFAR
    paper = tuple(
        (f"min_{split}_bce", ("table3_classification_loss.csv", "min_loss", {"dataset": dataset, "split": split}))
        for split in ("train", "test")
    )
    att = (("cnn_att", "cnn"), ("cnn_gmnm_att", "cnn_gmnm"))  # with attention, without
    pairs = lambda metric: tuple(((a, metric), (b, metric)) for a, b in att)  # noqa: E731 (a one-line table of pairs)
    return [
        Claim(
            "C6",
            dataset,
            "Table 3: CNN+GMNM has the lowest test loss",
            dataset,
            "min_test_bce",
            Kind.RANK,
            ours="cnn_gmnm",
            others=("cnn", "cnn_att", "cnn_gmnm_att"),
            paper=paper,
            missing=missing,
            protocols=("paper", "tuned"),
        ),
        Claim(
            "C7",
            f"{dataset}, training loss",
            "Table 3: attention lowers the training loss (Att over no Att)",
            dataset,
            "min_train_bce",
            Kind.RATIO,
            pairs=pairs("min_train_bce"),
            paper=paper,
            missing=missing,
            protocols=("paper", "tuned"),
        ),
        Claim(
            "C7",
            f"{dataset}, test loss",
            "Table 3: ... but raises the test loss: attention overfits",
            dataset,
            "min_test_bce",
            Kind.RATIO,
            pairs=pairs("min_test_bce"),
            direction="above",
            paper=paper,
            missing=missing,
            protocols=("paper", "tuned"),
        ),
    ]


def claims() -> list[Claim]:
    """Every claim, in the paper's order."""
    out = _fit("C1", "fit1d", "Supplement, 1-D") + _fit("C2", "fit2d", "Fig. 2")
    out += [
        Claim(
            "C3",
            f"level {i}",
            "Fig. 2: once the bump U is added, KAN overfits: its test loss explodes "
            "(final over its minimum during training, at least 10x)",
            "fit2d",
            "final_test_mse",
            Kind.RATIO,
            pairs=((("kan", "final_test_mse"), ("kan", "min_test_mse")),),
            select=(("task.level", i),),
            threshold=10.0,
            direction="above",
            paper_text="explodes once U is introduced",
            protocols=("paper", "tuned"),
            judged_under=("paper",),
            why="'eventually': a scaled-down profile trains a tenth of the paper's steps",
        )
        for i in (2, 3)
    ]
    table1 = (("min_l2", ("table1_poisson.csv", "min_l2", {})), ("n_params", ("table1_poisson.csv", "n_params", {})))
    out += [
        Claim(
            "C4",
            "Eq. 4",
            "Table 1: GMNM has the lowest Poisson error (with fewer parameters)",
            "poisson",
            "min_l2",
            Kind.RANK,
            ours="gmnm",
            others=("kan", "pinn"),
            paper=table1,
            where=is_paper_problem,
        ),
        Claim(
            "C5",
            "Eq. 4, order of magnitude",
            "Table 1: GMNM's error an order of magnitude below KAN's and PINN's",
            "poisson",
            "min_l2",
            Kind.RANK,
            ours="gmnm",
            others=("kan", "pinn"),
            threshold=0.1,
            paper=table1,
            where=is_paper_problem,
        ),
    ]
    out += [
        Claim(
            "C5",
            f"Eq. 4, {m}'s value",
            f"Table 1: {m}'s minimum L2 error",
            "poisson",
            "min_l2",
            Kind.VALUE,
            ours=m,
            paper=table1,
            where=is_paper_problem,
            protocols=("paper",),
            judged_under=("paper",),
            why="a scaled-down profile trains a tenth of the paper's steps: no value should match",
        )
        for m in ("gmnm", "kan", "pinn")
    ]
    for dataset in ("mnist", "cifar10", "cifar100"):
        out += _classification(dataset)
    out += [
        Claim(
            "C8",
            f"Table 2, {dataset}",
            "Table 2: GMNM adds no noticeable training slowdown (ms per step, GMNM models over their base, below 1.1)",
            dataset,
            "ms_per_step",
            Kind.RATIO,
            pairs=(
                (("cnn_gmnm", "ms_per_step"), ("cnn", "ms_per_step")),
                (("cnn_gmnm_att", "ms_per_step"), ("cnn_att", "ms_per_step")),
            ),
            threshold=1.1,
            paper=(("ms_per_step", ("table2_classification_size.csv", "ms_per_step_t4", {})),),
            missing="" if dataset == "mnist" else NO_CIFAR,
            protocols=("paper",),
        )
        for dataset in ("mnist", "cifar10", "cifar100")
    ]
    out += [
        Claim(
            "C8",
            f"Table 4, {dataset}",
            "Table 4: GMNM adds no noticeable training slowdown (ms per step, GMNM models over their base, below 1.1)",
            f"{dataset}_ae",
            "ms_per_step",
            Kind.RATIO,
            pairs=(
                (("ae_gmnm", "ms_per_step"), ("ae", "ms_per_step")),
                (("ae_att_gmnm", "ms_per_step"), ("ae_att", "ms_per_step")),
            ),
            threshold=1.1,
            paper=(("ms_per_step", ("table4_generation_size.csv", "ms_per_step_t4", {})),),
            missing=NO_CIFAR,
            protocols=("paper",),
        )
        for dataset in ("cifar10", "cifar100")
    ]
    for dataset in ("cifar10", "cifar100"):
        table5 = (("min_test_mse", ("table5_generation_loss.csv", "min_test_mse", {"dataset": dataset})),)
        out += [
            Claim(
                "C9",
                f"{dataset}, AE+Att+GMNM",
                "Table 5: AE+Att+GMNM has the lowest reconstruction MSE",
                f"{dataset}_ae",
                "min_test_mse",
                Kind.RANK,
                ours="ae_att_gmnm",
                others=("ae", "ae_att", "ae_gmnm"),
                paper=table5,
                missing=NO_CIFAR,
                protocols=("paper",),
            ),
            Claim(
                "C9",
                f"{dataset}, GMNM models",
                "Table 5: the GMNM models have lower test loss than their bases",
                f"{dataset}_ae",
                "min_test_mse",
                Kind.RATIO,
                pairs=(
                    (("ae_gmnm", "min_test_mse"), ("ae", "min_test_mse")),
                    (("ae_att_gmnm", "min_test_mse"), ("ae_att", "min_test_mse")),
                ),
                paper=table5,
                missing=NO_CIFAR,
                protocols=("paper",),
            ),
        ]
    out += [
        Claim(
            "C10",
            "test MSE",
            "Table 6: LSTM(3)+GMNM beats LSTM(32) by more than 10x on test MSE",
            "timeseries",
            "final_test_mse",
            Kind.RANK,
            ours="lstm3_gmnm",
            others=("lstm32",),
            threshold=0.1,
            paper=(("final_test_mse", ("table6_timeseries.csv", "test_mse", {})),),
            protocols=("paper", "tuned"),
        )
    ]
    out += [
        Claim(
            "C11",
            f"Table 1, {m}",
            "Table 1's parameter counts",
            "poisson",
            "n_params",
            Kind.COUNT,
            ours=m,
            paper=table1,
            protocols=("paper",),
        )
        for m in ("gmnm", "kan", "pinn")
    ]
    out += [
        Claim(
            "C11",
            f"Table 2, {dataset}, {m}",
            "Table 2's parameter counts",
            dataset,
            "n_params",
            Kind.COUNT,
            ours=m,
            paper=(("n_params", ("table2_classification_size.csv", column, {})),),
            protocols=("paper",),
            missing="" if dataset == "mnist" else NO_CIFAR,
        )
        for dataset, column in (("mnist", "n_params_mnist"), ("cifar10", "n_params_cifar"))
        for m in ("cnn", "cnn_att", "cnn_gmnm")
    ]
    out += [
        Claim(
            "C11",
            f"Table 4, {m}",
            "Table 4's parameter counts",
            "cifar10_ae",
            "n_params",
            Kind.COUNT,
            ours=m,
            paper=(("n_params", ("table4_generation_size.csv", "n_params", {})),),
            protocols=("paper",),
            missing=NO_CIFAR,
        )
        for m in ("ae", "ae_att", "ae_gmnm", "ae_att_gmnm")
    ]
    out += [
        Claim(
            "C11",
            "Table 6, LSTM(32) over LSTM(3)+GMNM",
            "§5.3: LSTM(32) has a parameter count similar to LSTM(3)+GMNM's (ratio within 2x)",
            "timeseries",
            "n_params",
            Kind.RATIO,
            pairs=((("lstm32", "n_params"), ("lstm3_gmnm", "n_params")),),
            threshold=2.0,
            paper_text="similar parameter count",
            protocols=("paper",),
        )
    ]
    return out
