"""What each image data set is: the shape its models are built for, and where its files go.

Kept free of torchvision so that composing a config (conf/ reads a model's input shape from
here through `${image_io:...}`) does not import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.harness.errors import ConfigError


@dataclass(frozen=True)
class Spec:
    loader: str  # the torchvision.datasets class that reads the files
    channels: int
    size: int
    classes: int
    layout: str  # where the files go under root, for the error message


SPECS = {
    "mnist": Spec(
        "MNIST",
        1,
        28,
        10,
        "<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (uncompressed IDX files: "
        "gunzip the .gz files there)",
    ),
    "cifar10": Spec(
        "CIFAR10",
        3,
        32,
        10,
        "<root>/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta} (the python "
        "version, cifar-10-python.tar.gz, unpacked)",
    ),
    "cifar100": Spec(
        "CIFAR100", 3, 32, 100, "<root>/cifar-100-python/{train,test,meta} (cifar-100-python.tar.gz, unpacked)"
    ),
}


def image_io(name: str, field: str) -> int:
    """The resolver `${image_io:mnist,channels}`: a data set's channels, size or classes."""
    if name not in SPECS:
        raise ConfigError(f"task.dataset={name!r} is not an image data set; choose one of {sorted(SPECS)}")
    return getattr(SPECS[name], field)
