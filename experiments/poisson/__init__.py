"""Poisson PDE (paper §4.2, Eq. 4, Table 1, Fig. 3): GMNM against KAN and a PINN."""

from experiments.harness.registry import register
from experiments.poisson.report import PoissonReport
from experiments.poisson.task import PoissonTask

register("poisson", tasks=(PoissonTask,), report=PoissonReport())
