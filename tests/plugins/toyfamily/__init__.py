"""A toy experiment family: its task, its report, and the one call that plugs them in."""

from experiments.harness.registry import register
from toyfamily.report import SineReport
from toyfamily.task import SineTask

register("toy", tasks=(SineTask,), report=SineReport())
