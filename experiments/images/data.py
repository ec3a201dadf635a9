"""MNIST, CIFAR-10 and CIFAR-100 as whole uint8 tensors, read by torchvision's own loaders.

A data set is loaded once into memory as (N, C, H, W) uint8 images and int64 labels; tasks move
it to the training device and batch by index, so no PIL transform runs in the training loop.
`root` is the folder torchvision reads and downloads into (conf: paths.data_dir, from the
environment variable GMNM_DATA, else a folder under the user's cache).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor
from torchvision import datasets

from experiments.harness.schema import SWITCH, Rule, count
from experiments.images.files import DatasetDamaged, DatasetUnavailable, damage, expected
from experiments.images.specs import SPECS


@dataclass
class ImageData:
    train_x: Tensor  # (N, C, H, W) uint8
    train_y: Tensor  # (N,) int64
    test_x: Tensor
    test_y: Tensor
    classes: int


def default_root() -> Path:
    """GMNM_DATA if set, else $XDG_CACHE_HOME/gmnm/data (~/.cache/gmnm/data)."""
    if os.environ.get("GMNM_DATA"):
        return Path(os.environ["GMNM_DATA"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "gmnm" / "data"


def _unverified(cls: type) -> type:
    """cls with its md5 checks switched off (files must still exist): for data regenerated in the
    real on-disk format, whose checksums cannot match. Only CIFAR checks md5s on load."""
    if not hasattr(cls, "train_list"):
        return cls
    return type(
        cls.__name__,
        (cls,),
        {
            "train_list": [[name, None] for name, _ in cls.train_list],
            "test_list": [[name, None] for name, _ in cls.test_list],
            "meta": {**cls.meta, "md5": None},
        },
    )


def load(name: str, root: str | Path | None = None, download: bool = True, verify: bool = True) -> ImageData:
    """Both splits of data set `name`. Raises DatasetUnavailable when its files are absent and cannot
    be downloaded (or `root`, given explicitly, does not exist: no folder is created for it), and
    DatasetDamaged, naming the file and why, when a file is present but truncated or corrupt."""
    if name not in SPECS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(SPECS)}")
    spec = SPECS[name]
    if root and not Path(root).expanduser().is_dir():  # the user's own folder: a typo must not become a download
        raise DatasetUnavailable(
            f"{name}: the data folder {root} does not exist. Point the environment variable GMNM_DATA "
            f"(or paths.data_dir=...) at the folder that holds {name} ({spec.layout}), or create it "
            f"to have torchvision download {name} into it"
        )
    root = Path(root).expanduser() if root else default_root()
    files = expected(name, root)
    damaged = [(p, why) for p, md5 in files.items() if p.exists() and (why := damage(name, p, md5, verify))]
    if damaged:
        raise DatasetDamaged(
            f"{name} in {root}: "
            + "; ".join(f"{p}: {why}" for p, why in damaged)
            + f". Delete {'it' if len(damaged) == 1 else 'them'} (a download then replaces "
            f"{'it' if len(damaged) == 1 else 'them'}) or put whole copies in place: {spec.layout}"
        )
    absent = [p.name for p in files if not p.exists()]
    loader = getattr(datasets, spec.loader)
    cls = loader if verify else _unverified(loader)
    try:
        train = cls(str(root), train=True, download=download and bool(absent))
        test = cls(str(root), train=False, download=False)
    except Exception as e:  # torchvision raises RuntimeError, URLError, OSError... depending on the step
        if not absent:  # every file was there and whole by our checks, yet torchvision could not read them
            raise DatasetDamaged(
                f"{name} in {root}: torchvision could not read its files "
                f"({type(e).__name__}: {e}); put whole copies in place: {spec.layout}"
            ) from e
        how = (
            f"could not be downloaded ({type(e).__name__}: {e})"
            if download
            else "download is off (task.download=false)"
        )
        raise DatasetUnavailable(
            f"{name}: not found in {root} (missing: {', '.join(absent)}), and {how}. Either run online once "
            f"(torchvision downloads it there), or put the files in place yourself: {spec.layout}; or point "
            f"the environment variable GMNM_DATA (or paths.data_dir=...) at a folder that has them."
        ) from e
    out = ImageData(*_tensors(train), *_tensors(test), classes=spec.classes)
    shape = (spec.channels, spec.size, spec.size)
    if tuple(out.train_x.shape[1:]) != shape or tuple(out.test_x.shape[1:]) != shape:
        raise DatasetUnavailable(
            f"{name} in {root}: images of shape {tuple(out.train_x.shape[1:])}, "
            f"expected {shape}; the files there are not {name}"
        )
    if int(out.train_y.max()) >= spec.classes or int(out.train_y.min()) < 0:
        raise DatasetUnavailable(f"{name} in {root}: labels outside 0..{spec.classes - 1}")
    return out


def _tensors(ds) -> tuple[Tensor, Tensor]:
    """torchvision data set -> ((N, C, H, W) uint8, (N,) int64), without going through PIL."""
    x = ds.data if isinstance(ds.data, Tensor) else torch.from_numpy(np.ascontiguousarray(ds.data))
    if x.ndim == 3:  # MNIST: (N, H, W)
        x = x[:, None]
    else:  # CIFAR: (N, H, W, C) -> (N, C, H, W)
        x = x.permute(0, 3, 1, 2)
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return x.contiguous(), y


def synthetic(name: str, n_train: int, n_test: int, seed: int = 0) -> ImageData:
    """Random uint8 images and labels of data set `name`'s shapes and classes, for what needs its shapes and
    not its images (a training step's time): no file is read."""
    spec = SPECS[name]
    g = torch.Generator().manual_seed(seed)

    def split(n: int) -> tuple[Tensor, Tensor]:
        x = torch.randint(0, 256, (n, spec.channels, spec.size, spec.size), generator=g, dtype=torch.uint8)
        return x, torch.randint(0, spec.classes, (n,), generator=g)

    return ImageData(*split(n_train), *split(n_test), classes=spec.classes)


def fetch(name: str, root: str | Path | None = None, download: bool = True, verify: bool = True) -> str:
    """Make sure data set `name` is on disk and whole (downloading it if allowed): one line saying
    what is there; DatasetUnavailable or DatasetDamaged as `load` raises them."""
    data = load(name, root, download=download, verify=verify)
    return f"{name}: {len(data.train_x):,} train and {len(data.test_x):,} test images present"


class ImageDataTask:
    """What a task over one of these data sets shares: fetching it before a sweep (experiments.fetch).
    The task sets `dataset`, `root`, `download` and `verify`."""

    # the keys every image task takes (the one config check: experiments/harness/schema.py)
    config_keys: ClassVar[dict[str, Rule]] = {
        "task.n_train": count(null="the whole training split"),
        "task.n_test": count(null="the whole test split"),
        "task.eval_batch_size": count(),
        "task.download": SWITCH,
        "task.verify": SWITCH,
    }

    def __init__(self, dataset: str, root: str | None, download: bool, verify: bool, n_train: int | None,
                 n_test: int | None, eval_batch_size: int) -> None:  # fmt: skip
        name = type(self).__name__
        if dataset not in SPECS:
            raise ValueError(f"{name}: dataset must be one of {sorted(SPECS)}, got {dataset!r}")
        for what, n in (("n_train", n_train), ("n_test", n_test)):
            if n is not None and n < 1:
                raise ValueError(f"{name}: {what} must be a positive count or null (all), got {n}")
        self.dataset, self.root, self.download, self.verify = dataset, root, download, verify
        self.n_train, self.n_test, self.eval_batch_size = n_train, n_test, eval_batch_size

    def example_input(self, n: int) -> Tensor:
        """A batch of n inputs of the shape models of this task take (no data needed)."""
        spec = SPECS[self.dataset]
        return torch.zeros(n, spec.channels, spec.size, spec.size)

    def fetch(self) -> str:
        return fetch(self.dataset, self.root, download=self.download, verify=self.verify)

    def setup(self, device: torch.device, dtype: torch.dtype) -> None:
        self.use(load(self.dataset, self.root, download=self.download, verify=self.verify), device, dtype)

    def setup_synthetic(self, device: torch.device, dtype: torch.dtype, n: int = 256) -> None:
        """Set up on n random images of the data set's shapes (`synthetic`): a step then costs what it costs
        on the real images, which need not be on this machine."""
        self.use(synthetic(self.dataset, n, n), device, dtype)

    def use(self, data: ImageData, device: torch.device, dtype: torch.dtype) -> None:
        """Set up on these images (the task's splits, its normalization)."""
        raise NotImplementedError
