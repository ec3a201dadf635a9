"""Mini-batches by index (experiments/harness/batching.py)."""

import torch

from experiments.harness.batching import tensor_batches


def test_tensor_batches():

    x, y = torch.arange(10.0)[:, None], torch.arange(10.0)
    g = torch.Generator().manual_seed(0)
    keep = tensor_batches(x, y, 4, g)
    epoch = [next(keep) for _ in range(3)]  # 4 + 4 + 2: the last batch is kept
    assert [len(b[0]) for b in epoch] == [4, 4, 2]
    assert sorted(torch.cat([b[1] for b in epoch]).tolist()) == list(range(10))  # a permutation
    assert all(torch.equal(bx[:, 0], by) for bx, by in epoch)  # x and y stay paired
    drop = tensor_batches(x, y, 4, torch.Generator().manual_seed(0), drop_last=True)
    assert [len(next(drop)[0]) for _ in range(3)] == [4, 4, 4]  # the partial batch is dropped
    full = tensor_batches(x, y, None, g)
    assert next(full)[0] is x
