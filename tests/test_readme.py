"""The README as a newcomer reads it: short, its first screen holds a command to try and the findings, and its
layer snippet runs as written."""

import re

from experiments.harness.env import ROOT

README = (ROOT / "README.md").read_text()


def test_the_readme_is_short_and_its_first_screen_has_a_smoke_command_and_the_findings():
    lines = README.splitlines()
    assert len(lines) < 200
    first = "\n".join(lines[:40])
    assert "profile=smoke" in first and "What we found" in first and "results/CLAIMS.md" in first


def test_the_layer_snippet_runs_as_written():
    [snippet] = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    exec(compile(snippet, "README.md", "exec"), {})  # its own asserts check shapes and the parameter count


def test_every_generated_block_is_there_for_the_report_to_fill():
    from experiments.analysis import pages

    for begin, end in ((pages.CLAIMS_BEGIN, pages.CLAIMS_END), (pages.FOREST_BEGIN, pages.FOREST_END),
                       (pages.LINEUP_BEGIN, pages.LINEUP_END)):  # fmt: skip
        assert README.count(begin) == 1 and README.count(end) == 1 and README.index(begin) < README.index(end)
