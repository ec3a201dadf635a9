"""Image classification (§5.1): MNIST, CIFAR-10, CIFAR-100.

Choices where the paper is silent (config keys of `ClassificationTask`):
- training loss `onehot_bce` (Keras's binary_crossentropy on softmax outputs), the reading that
  fits Table 3's magnitudes; `ce` is the alternative. Both, and the accuracy, are measured.
- a validation split (`val_fraction` of the training set, drawn once from `split_seed`) is held
  out. The paper reports the minimum *test* loss over epochs, which selects on the test set; the
  report gives that and, beside it, the test loss at the epoch of minimum validation loss.
- images are scaled to [0, 1] and standardized per channel with the training split's mean and
  std, on the device; no augmentation (the paper uses "the simplest possible" setup).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import ClassVar

import torch
from torch import Tensor, nn

from experiments.classification.losses import LOSSES
from experiments.harness.batching import tensor_batches
from experiments.harness.schema import FRACTION, SEED, Rule
from experiments.images.data import ImageData, ImageDataTask


class ClassificationTask(ImageDataTask):
    # the keys a user may override, and what each allows (the one config check: experiments/harness/schema.py)
    config_keys: ClassVar[dict[str, Rule]] = {
        **ImageDataTask.config_keys,
        "task.val_fraction": FRACTION,
        "task.split_seed": SEED,
        "task.loss": Rule(str, choices=("onehot_bce", "ce")),
    }

    def __init__(
        self,
        dataset: str,
        root: str | None = None,
        download: bool = True,
        verify: bool = True,
        loss: str = "onehot_bce",
        val_fraction: float = 0.1,
        split_seed: int = 0,
        n_train: int | None = None,
        n_test: int | None = None,
        eval_batch_size: int = 1000,
    ):
        super().__init__(dataset, root, download, verify, n_train, n_test, eval_batch_size)
        if loss not in LOSSES:
            raise ValueError(f"ClassificationTask: loss must be one of {sorted(LOSSES)}, got {loss!r}")
        if not 0 <= val_fraction < 1:
            raise ValueError(f"ClassificationTask: val_fraction must be in [0, 1), got {val_fraction}")
        self.loss_name, self.val_fraction, self.split_seed = loss, val_fraction, split_seed

    def use(self, data: ImageData, device: torch.device, dtype: torch.dtype) -> None:
        self.classes, self.dtype = data.classes, dtype
        g = torch.Generator().manual_seed(self.split_seed)
        order = torch.randperm(len(data.train_x), generator=g)
        n_val = int(round(self.val_fraction * len(order)))
        val, train = order[:n_val], order[n_val:]
        if self.n_train is not None:  # smaller schedules: a fixed random subset of the training split
            train, val = train[: self.n_train], val[: max(1, round(self.n_train * self.val_fraction))]
        test = torch.arange(len(data.test_x))[: self.n_test]
        # uint8 images stay uint8 on the device (a quarter of float32); batches are normalized there
        self.splits = {
            "train": (data.train_x[train].to(device), data.train_y[train].to(device)),
            "test": (data.test_x[test].to(device), data.test_y[test].to(device)),
        }
        if n_val:
            self.splits["val"] = (data.train_x[val].to(device), data.train_y[val].to(device))
        x = self.splits["train"][0].to(torch.float64) / 255
        self.mean = x.mean(dim=(0, 2, 3), keepdim=True).to(dtype)  # (1, C, 1, 1)
        self.std = x.std(dim=(0, 2, 3), keepdim=True).to(dtype)

    def inputs(self, images: Tensor) -> Tensor:
        """(B, C, H, W) uint8 -> standardized float images."""
        return (images.to(self.dtype) / 255 - self.mean) / self.std

    def title(self) -> str:
        return f"{self.dataset} classification"

    def steps_per_epoch(self, batch_size: int | None) -> int:
        n = len(self.splits["train"][0])
        return 1 if batch_size is None else math.ceil(n / batch_size)

    def batches(self, batch_size: int | None, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        return tensor_batches(*self.splits["train"], batch_size, generator, drop_last=False)

    def loss(self, model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        images, labels = batch
        return LOSSES[self.loss_name](model(self.inputs(images)), labels)

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Both losses and the accuracy on every split (train, val, test), over whole splits."""
        out = {}
        for split, (images, labels) in self.splits.items():
            sums = {"ce": 0.0, "bce": 0.0, "acc": 0.0}
            for i in range(0, len(images), self.eval_batch_size):
                x, y = images[i : i + self.eval_batch_size], labels[i : i + self.eval_batch_size]
                logits = model(self.inputs(x))
                sums["ce"] += float(LOSSES["ce"](logits, y)) * len(y)
                sums["bce"] += float(LOSSES["onehot_bce"](logits, y)) * len(y)
                sums["acc"] += float((logits.argmax(-1) == y).sum())
            out.update({f"{split}_{k}": v / len(images) for k, v in sums.items()})
        return out
