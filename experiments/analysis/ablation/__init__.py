"""Ablations beyond the paper: variants of one model compared under an experiment's protocol."""
