"""The paper's experiments: the harness that runs trials (harness/), one package per experiment
family (fitting, poisson, timeseries, classification, generation; images: their data sets), and
the analysis of the records (analysis/). Importing the package registers what conf/ needs."""

import warnings

from experiments.harness.config import register_resolvers
from experiments.harness.variants import register_variants
from experiments.images.specs import image_io

# conf/hydra/launcher/submitit_slurm.yaml sets this project's defaults on the plugin's schema of the
# same name, which Hydra 1.3 still validates it against but warns about at every composition.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/submitit_slurm' is validated against ConfigStore")

register_resolvers({"image_io": image_io})  # conf/ uses them; every entry point imports this package first
register_variants()  # model=<m>_lsq for every model with a linear head (harness/variants.py)
