"""Image classification (§5.1, Tables 2-3)."""

from experiments.classification.report import ClassificationReport
from experiments.classification.task import ClassificationTask
from experiments.harness.registry import register

register("classification", tasks=(ClassificationTask,), report=ClassificationReport())
