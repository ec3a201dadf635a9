"""The harness: what runs trials and keeps their records, knowing no experiment by name.

Config (resolvers, a trial's identity, the one config check), the Task contract and the registry
families plug into, the training loop (and its vectorised seeds, its least-squares head), the
result store with its locks, and the toolkit family reports are written with. It imports neither
the paper's experiment packages nor the analysis (tests/test_layout.py reads the imports).
"""
