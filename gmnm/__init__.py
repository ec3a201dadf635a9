"""GMNM: Gaussian Mixture-Inspired Nonlinear Modules (Lu et al., arXiv 2510.06660).

>>> from gmnm import GMNM, count_parameters
>>> layer = GMNM(2, 1, n_components=900)   # Table 1's GMNM: 4,500 parameters
>>> count_parameters(layer)
4500
"""

from gmnm.layer import GMNM
from gmnm.utils import count_parameters

__all__ = ["GMNM", "count_parameters"]
__version__ = "0.1.0"
