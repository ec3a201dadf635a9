"""Baseline models the paper compares GMNM against: plain nn.Modules, no config imports."""

from baselines.attention import SelfAttention, SpatialSelfAttention
from baselines.autoencoder import AutoEncoder
from baselines.cnn import CNN
from baselines.kan import KAN
from baselines.lstm import LSTMRegressor
from baselines.mlp import MLP

__all__ = ["AutoEncoder", "CNN", "KAN", "LSTMRegressor", "MLP", "SelfAttention", "SpatialSelfAttention"]
