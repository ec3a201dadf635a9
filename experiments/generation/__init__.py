"""Image generation by reconstruction (§5.2, Tables 4-5, Fig. 5)."""

from experiments.generation.report import GenerationReport
from experiments.generation.task import ReconstructionTask
from experiments.harness.registry import register

register("generation", tasks=(ReconstructionTask,), report=GenerationReport())
