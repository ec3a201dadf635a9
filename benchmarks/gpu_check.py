"""The checks a GPU machine is lent for, as one prepared run that ends within a budget:

    .venv/bin/python -m benchmarks.gpu_check --out $OUT                      # on the GPU: CUDA, about 8 min
    .venv/bin/python -m benchmarks.gpu_check --device cpu --dry-run --out /tmp/check   # what it would run

1. one smoke trial of every experiment of conf/lineup.yaml on the device (its default model; an experiment
   whose data set is not on the machine is listed as skipped, as `make reproduce` skips it);
2. the timing claims' step benchmark (`benchmarks.claim_steps`) on the device: C8 measured on the paper's
   class of device;
3. on CUDA, `make test-gpu`'s tests (tests/test_gpu.py);
4. one MNIST epoch of each of Table 3's four models under the paper's protocol (batch 32, all 54,000
   training images), for the per-seed cost of a GPU run.

Each step runs as its own process with its share of the budget, so a hang costs one step, not the check.
Everything lands under --out: the smoke trials' and the epochs' records (`store/`), the step benchmark's
file (`store/steps/`), each step's log, and `summary.md`, a table of step, command, exit status and seconds,
with the device named. --dry-run writes the summary of what would run and runs nothing.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

from experiments.harness.config import parse_override
from experiments.harness.env import ROOT

MNIST_MODELS = ("cnn", "cnn_att", "cnn_gmnm", "cnn_gmnm_att")  # Table 3's four


def experiments() -> list[str]:
    """Every experiment of conf/lineup.yaml, the one list of experiments."""
    import yaml

    return list(yaml.safe_load((ROOT / "conf" / "lineup.yaml").read_text()))


def plan(device: str, store: Path) -> list[tuple[str, list[str], float]]:
    """(name, command, share of the budget) of every step, in order."""
    py = [sys.executable, "-m"]
    where = [f"trainer.device={device}", f"paths.store_dir={store}", "trainer.progress=false"]
    steps = [
        (f"smoke {e}", py + ["experiments.run", f"experiment={e}", "profile=smoke", *where], 0.25 / len(experiments()))
        for e in experiments()
    ]
    steps.append(("step benchmark", py + ["benchmarks.claim_steps", "--device", device, "--store", str(store)], 0.25))
    if device == "cuda":  # make test-gpu: stacked seeds, kill and resume, fused = readable and KAN = pykan on CUDA
        steps.append(("gpu tests", py + ["pytest", "-q", "-x", "-p", "no:xdist", "tests/test_gpu.py"], 0.15))
    steps += [
        (
            f"mnist epoch {m}",
            py + ["experiments.run", "experiment=mnist", f"model={m}", "profile=paper", "trainer.epochs=1", *where],
            (0.35 if device == "cuda" else 0.5) / len(MNIST_MODELS),
        )  # fmt: skip
        for m in MNIST_MODELS
    ]
    return steps


def summary(device: str, rows: list[tuple[str, list[str], str, float]]) -> str:
    lines = [f"# GPU check on {device}", "", "| step | command | exit | seconds |", "| --- | --- | --- | --- |"]
    for name, command, status, seconds in rows:
        shown = " ".join(shlex.quote(c) for c in command).replace(sys.executable, "python")
        lines.append(f"| {name} | `{shown}` | {status} | {seconds:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="where the records, logs and summary.md go")
    ap.add_argument("--device", default="cuda", help="cuda (the check's purpose) or cpu (to try it here)")
    ap.add_argument("--budget-s", type=float, default=480, help="seconds for every step together")
    ap.add_argument("--dry-run", action="store_true", help="write what would run to summary.md; run nothing")
    args = ap.parse_args(argv)
    if args.device not in ("cuda", "cpu"):
        print(f"error: --device {args.device!r}: must be cuda or cpu", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    store, rows = args.out / "store", []
    for name, command, share in plan(args.device, store):
        if args.dry_run:
            rows.append((name, command, "not run", 0.0))
            continue
        log = args.out / f"{name.replace(' ', '_')}.log"
        t0 = time.perf_counter()
        parsed = [parse_override(c) for c in command if "=" in c and not c.startswith("-")]
        experiment = next((p.get_value_element_as_str() for p in parsed if p.key_or_group == "experiment"), None)
        try:
            with log.open("w") as out:
                # as make reproduce does: an experiment whose data set is missing is skipped (exit 3)
                rc = 0 if experiment is None else subprocess.run([sys.executable, "-m", "experiments.fetch", experiment],
                                                                 cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode  # fmt: skip
                if rc == 0:
                    rc = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                        timeout=share * args.budget_s).returncode  # fmt: skip
            status = {0: "0", 3: "skipped: its data set is missing", 4: "skipped: a file of its data set is damaged"}
            status = status.get(rc, f"{rc} (see {log.name})")
        except subprocess.TimeoutExpired:
            status = f"stopped at its {share * args.budget_s:.0f} s (see {log.name})"
        rows.append((name, command, status, time.perf_counter() - t0))
        (args.out / "summary.md").write_text(summary(args.device, rows))  # after every step: a stopped check keeps it
    (args.out / "summary.md").write_text(summary(args.device, rows))
    print((args.out / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
