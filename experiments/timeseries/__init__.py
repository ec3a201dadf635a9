"""Time-series forecasting (paper §5.3, Eq. 5, Table 6): LSTM(3), LSTM(3)+GMNM, LSTM(32)."""
