"""The toy family's report: one table, one figure, one glance row, on the harness's skeleton."""

from experiments.harness.family import FamilyReport, Section
from experiments.harness.records import by_row
from experiments.harness.summary import first, frame, glance_row, summarize


class SineReport(FamilyReport):
    section = Section(
        title="Toy: a sine",
        about="Final test MSE over seeds.",
        tables=(("toy", "The sine, per model", ("label", "final_test_mse_mean")),),
        figures=("toy",),
    )

    def tables(self, records, ctx):
        df = frame(records, ["final_test_mse"])
        ident = first(df, ["row"], ["protocol", "model", "label"])
        stats = summarize(df, ["row"], ["final_test_mse"])
        return {"toy": ident.merge(stats, on="row").drop(columns="row")}

    def figures(self, records, tables, ctx):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        for (_, model), recs in by_row(records):
            ax.plot([h["step"] for h in recs[0]["history"]], [h["test_mse"] for h in recs[0]["history"]], label=model)
        ax.legend()
        return {"toy": fig}

    def glance(self, records, tables, ctx):
        return [
            glance_row(
                "toy",
                ctx.profile,
                "sine",
                "final test MSE, mean",
                tables["toy"],
                value="final_test_mse_mean",
                ours="gmnm",
                records=records,
                metric_key="final_test_mse",
            )
        ]
