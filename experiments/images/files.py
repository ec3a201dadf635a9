"""Which files each image data set needs, and whether those on disk are whole.

torchvision reports a truncated or damaged file either as "not found" (CIFAR: it re-downloads on
a checksum mismatch and fails offline) or as an error from deep inside its parser (MNIST). This
module checks the files first, so a missing data set and a damaged file get different messages
(and `experiments.fetch` different exit codes). The file names and checksums are torchvision's
own, read from its data set classes when a check runs (the errors import without torchvision).
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from experiments.harness.errors import DataDamaged, DataMissing
from experiments.images.specs import SPECS


class DatasetUnavailable(DataMissing):
    """An image data set's files are absent and cannot be downloaded."""


class DatasetDamaged(DataDamaged):
    """A file of an image data set is present but truncated, corrupt or fails verification."""


def expected(name: str, root: Path) -> dict[Path, str | None]:
    """The files data set `name` needs under root -> their md5 (None for MNIST, whose md5s in
    torchvision are of the .gz downloads, not of the uncompressed files it reads)."""
    from torchvision import datasets

    cls = getattr(datasets, SPECS[name].loader)
    if name == "mnist":
        return {root / "MNIST" / "raw" / Path(f).stem: None for f, _ in cls.resources}
    files = dict(cls.train_list + cls.test_list) | {cls.meta["filename"]: cls.meta["md5"]}
    return {root / cls.base_folder / f: md5 for f, md5 in files.items()}


def damage(name: str, path: Path, md5: str | None, verify: bool = True) -> str | None:
    """Why a present file of data set `name` cannot be used, or None when it is whole."""
    if name == "mnist":  # IDX images hold (size, size) items, labels single bytes
        size = SPECS[name].size
        return _idx_damage(path, (size, size) if "images" in path.name else ())
    if verify:
        found = _md5(path)
        return None if found == md5 else f"its md5 is {found}, not {md5} (truncated or altered)"
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
    shape = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(head[3])]
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
