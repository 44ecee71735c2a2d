"""ARIMA side of the sunspots forecasting benchmark (run by the benchmark with Debian's /usr/bin/python3).

Reads a two-column CSV (year, value) in time order and chooses the ARIMA order on the first --train
rows only: the differencing d as auto-ARIMA tools do (difference while a KPSS test rejects
stationarity at 5%, at most --max-d times; AIC values of different d are not comparable), then p and
q by AIC. Then, keeping the fitted parameters, forecasts --horizon steps ahead from every
origin o = train, train+1, ..., n-1, conditioning on the actual rows before o (rolling origin, no
refit). Prints {"order": [p, d, q], "aic": ..., "forecasts": [[f_o, f_o+1, ...], ...]} (one list per
origin, steps past the end of the series included). Needs python3-statsmodels (0.13).
"""
import argparse
import csv
import itertools
import json
import warnings

import numpy as np
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.stattools import kpss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", required=True)
    parser.add_argument("--train", type=int, required=True)
    parser.add_argument("--horizon", type=int, default=5)
    parser.add_argument("--rows", type=int, default=None, help="read only the first ROWS rows (a validation split)")
    parser.add_argument("--max-p", type=int, default=9)
    parser.add_argument("--max-d", type=int, default=1)
    parser.add_argument("--max-q", type=int, default=3)
    args = parser.parse_args()

    with open(args.csv, newline="") as f:
        rows = list(csv.reader(f))[1:]
    series = np.array([float(r[1]) for r in rows if r])[: args.rows]
    train = series[: args.train]

    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d, differenced = 0, train
        while d < args.max_d and kpss(differenced, regression="c", nlags="auto")[1] < 0.05:
            d, differenced = d + 1, np.diff(differenced)
        for p, q in itertools.product(range(args.max_p + 1), range(args.max_q + 1)):
            trend = "c" if d == 0 else "n"
            try:
                result = ARIMA(train, order=(p, d, q), trend=trend).fit()
            except Exception:  # an order that does not converge is skipped, as auto-ARIMA tools do
                continue
            if np.isfinite(result.aic) and (best is None or result.aic < best[0]):
                best = (result.aic, (p, d, q), result)

        aic, order, result = best
        forecasts = []
        for origin in range(args.train, len(series)):
            # Same parameters, state filtered over the actual rows before the origin.
            applied = result.apply(series[:origin])
            forecasts.append([float(v) for v in applied.forecast(args.horizon)])

    print(json.dumps({"order": list(order), "aic": float(aic), "forecasts": forecasts}))


if __name__ == "__main__":
    main()
