import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("GMNM_ROOT", str(ROOT))


@pytest.fixture
def compose_cfg(tmp_path):
    """Compose the runner's config like `python -m experiments.run`, writing into tmp_path."""
    from hydra import compose, initialize_config_dir

    def _compose(*overrides: str):
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            return compose(config_name="config", overrides=[
                f"paths.store_dir={tmp_path / 'store'}", f"paths.log_dir={tmp_path / 'logs'}",
                "trainer.device=cpu", *overrides])
    return _compose
