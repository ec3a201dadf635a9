"""Experiments of the GMNM paper: one package per experiment family, one shared runner."""
