"""The analysis: records in, results/ out. Which records a table may hold, the report that runs
every family's, the generated pages, the statistics and the claims ledger, equal-budget tuning
and the ablations. It may import the harness and the experiment packages; neither imports it."""
