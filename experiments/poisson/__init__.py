"""Poisson PDE (paper §4.2, Eq. 4, Table 1, Fig. 3): GMNM against KAN and a PINN."""
