"""Reconstructing CIFAR images with an autoencoder (§5.2): pixel MSE, the paper's L2 loss.

Choices where the paper is silent (config keys of `ReconstructionTask`):
- pixels are scaled to [0, 1] and not standardized, and the models end in a sigmoid: the MSE
  is then in [0, 1] units, which is where Table 5's numbers (~0.015-0.02) sit.
- the whole training split trains (no validation split): Table 5 reports the minimum train and
  test MSE over epochs, and so do we; there is no epoch to pick.
- `n_show` test images (the first ones) are reconstructed after training and kept in the
  trial's record, for the report's reconstruction grid.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from typing import ClassVar

import torch
from torch import Tensor, nn

from experiments.harness.batching import tensor_batches
from experiments.harness.schema import Rule, count
from experiments.images.data import ImageData, ImageDataTask


class ReconstructionTask(ImageDataTask):
    # the keys a user may override, and what each allows (the one config check: experiments/harness/schema.py)
    config_keys: ClassVar[dict[str, Rule]] = {**ImageDataTask.config_keys, "task.n_show": count(0)}

    def __init__(
        self,
        dataset: str,
        root: str | None = None,
        download: bool = True,
        verify: bool = True,
        n_train: int | None = None,
        n_test: int | None = None,
        eval_batch_size: int = 256,
        n_show: int = 8,
    ):
        super().__init__(dataset, root, download, verify, n_train, n_test, eval_batch_size)
        self.n_show = n_show

    def use(self, data: ImageData, device: torch.device, dtype: torch.dtype) -> None:
        self.dtype = dtype
        # uint8 on the device; the targets are the inputs, so one tensor per split
        self.splits = {"train": data.train_x[: self.n_train].to(device), "test": data.test_x[: self.n_test].to(device)}

    def inputs(self, images: Tensor) -> Tensor:
        """(B, C, H, W) uint8 -> floats in [0, 1]."""
        return images.to(self.dtype) / 255

    def title(self) -> str:
        return f"{self.dataset} reconstruction"

    def steps_per_epoch(self, batch_size: int | None) -> int:
        n = len(self.splits["train"])
        return 1 if batch_size is None else math.ceil(n / batch_size)

    def batches(self, batch_size: int | None, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
        x = self.splits["train"]
        return tensor_batches(x, x, batch_size, generator, drop_last=False)

    def loss(self, model: nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        x = self.inputs(batch[0])
        return (model(x) - x).square().mean()

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        out = {}
        for split, images in self.splits.items():
            total = 0.0
            for i in range(0, len(images), self.eval_batch_size):
                x = self.inputs(images[i : i + self.eval_batch_size])
                total += float((model(x) - x).square().mean()) * len(x)
            out[f"{split}_mse"] = total / len(images)
        return out

    @torch.no_grad()
    def artifacts(self, model: nn.Module) -> dict:
        """The first n_show test images and their reconstructions, as uint8 (N, C, H, W) in base64."""
        x = self.splits["test"][: self.n_show]
        recon = (model(self.inputs(x)).clamp(0, 1) * 255).round().to(torch.uint8)
        return {"reconstructions": {"shape": list(x.shape), "original": _b64(x), "reconstructed": _b64(recon)}}


def _b64(images: Tensor) -> str:
    return base64.b64encode(images.cpu().contiguous().numpy().tobytes()).decode()


def decode_images(blob: str, shape: list[int]) -> Tensor:
    """The inverse of the record's base64 field: (N, C, H, W) uint8."""
    import numpy as np

    return torch.from_numpy(np.frombuffer(base64.b64decode(blob), dtype=np.uint8).copy()).reshape(shape)
