"""Equal-budget tuning on validation data: search spaces, the objective, tuned configs, their report."""
