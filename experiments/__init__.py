"""The paper's experiments: one package per family, the shared runner, store and report."""

from experiments.config import register_resolvers

register_resolvers()  # conf/ uses them; every entry point imports this package first
