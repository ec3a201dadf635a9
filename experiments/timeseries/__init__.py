"""Time-series forecasting (paper §5.3, Eq. 5, Table 6): LSTM(3), LSTM(3)+GMNM, LSTM(32)."""

from experiments.harness.registry import register
from experiments.timeseries.report import TimeSeriesReport
from experiments.timeseries.task import TimeSeriesTask

register("timeseries", tasks=(TimeSeriesTask,), report=TimeSeriesReport())
