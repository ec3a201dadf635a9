"""Function fitting (paper §4.1, Fig. 2): GMNM, KAN and MLPs regress 2-D (and 1-D) targets."""
