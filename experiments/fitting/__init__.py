"""Function fitting (paper §4.1, Fig. 2): GMNM, KAN and MLPs regress 2-D (and 1-D) targets."""

from experiments.fitting.report import FittingReport
from experiments.fitting.task import FitTask
from experiments.harness.registry import register

register("fitting", tasks=(FitTask,), report=FittingReport())
