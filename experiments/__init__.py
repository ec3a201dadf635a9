"""The paper's experiments: one package per family, the shared runner, store and report."""

import warnings

from experiments.config import register_resolvers

# conf/hydra/launcher/submitit_slurm.yaml sets this project's defaults on the plugin's schema of the
# same name, which Hydra 1.3 still validates it against but warns about at every composition.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/submitit_slurm' is validated against ConfigStore")

register_resolvers()  # conf/ uses them; every entry point imports this package first
