"""Which files each image data set needs, and whether those on disk are whole.

torchvision reports a truncated or damaged file either as "not found" (CIFAR: it re-downloads on
a checksum mismatch and fails offline) or as an error from deep inside its parser (MNIST). This
module checks the files first, so a missing data set and a damaged file get different messages
(and `experiments.fetch` different exit codes). Free of torchvision: it only reads bytes.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

# MNIST's uncompressed IDX files (torchvision reads these): name -> (dims after the count)
MNIST_FILES = {"train-images-idx3-ubyte": (28, 28), "train-labels-idx1-ubyte": (),
               "t10k-images-idx3-ubyte": (28, 28), "t10k-labels-idx1-ubyte": ()}
# CIFAR's python-version files and their md5 (torchvision.datasets.CIFAR10/100, repeated here
# so that a check needs no torchvision import)
CIFAR_FILES = {
    "cifar10": ("cifar-10-batches-py", {
        "data_batch_1": "c99cafc152244af753f735de768cd75f", "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751", "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb", "test_batch": "40351d587109b95175f43aff81a1287e",
        "batches.meta": "5ff9c542aee3614f3951f8cda6e48888"}),
    "cifar100": ("cifar-100-python", {
        "train": "16019d7e3df5f24257cddd939b257f8d", "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
        "meta": "7973b15100ade9c7d40fb424638fde48"}),
}


class DatasetError(RuntimeError):
    """An image data set that cannot be used; the message says what to do."""


class DatasetUnavailable(DatasetError):
    """Its files are absent and cannot be downloaded."""


class DatasetDamaged(DatasetError):
    """A file is present but truncated, corrupt or fails verification."""


def expected(name: str, root: Path) -> list[Path]:
    """The files data set `name` needs under root."""
    if name == "mnist":
        return [root / "MNIST" / "raw" / f for f in MNIST_FILES]
    folder, files = CIFAR_FILES[name]
    return [root / folder / f for f in files]


def damage(name: str, path: Path, verify: bool = True) -> str | None:
    """Why a present file of data set `name` cannot be used, or None when it is whole."""
    if name == "mnist":
        return _idx_damage(path, MNIST_FILES[path.name])
    if verify:
        md5 = _md5(path)
        want = CIFAR_FILES[name][1][path.name]
        return None if md5 == want else f"its md5 is {md5}, not {want} (truncated or altered)"
    try:  # unverified (generated test data): it must at least unpickle
        with open(path, "rb") as f:
            pickle.load(f, encoding="latin1")
    except Exception as e:  # pickle raises many types on damaged input
        return f"it cannot be unpickled ({type(e).__name__}: {e})"
    return None


def _idx_damage(path: Path, dims: tuple[int, ...]) -> str | None:
    """An IDX file: magic 0x0000 0x08 (unsigned bytes) and ndim, then ndim big-endian sizes."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4 + 4 * (1 + len(dims)))
    if len(head) < 4 or head[:3] != b"\x00\x00\x08" or head[3] != 1 + len(dims):
        return "not an IDX file of unsigned bytes (bad header): is it still gzipped? gunzip it"
    if len(head) < 4 + 4 * head[3]:
        return f"truncated: {size} bytes, not even a header"
    shape = [int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(head[3])]
    if tuple(shape[1:]) != dims:
        return f"holds items of shape {tuple(shape[1:])}, expected {dims}"
    want = len(head) + shape[0] * (dims[0] * dims[1] if dims else 1)
    if size != want:
        return f"{'truncated' if size < want else 'too long'}: {size:,} bytes, its header says {want:,}"
    return None


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
