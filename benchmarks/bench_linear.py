"""asv: fastmlp.sklearn.Perceptron against scikit-learn's Perceptron, fit time on the cases
of benchmarks/linear.py (load_digits with no penalty, 'l1' and 'elasticnet'; a 100k x 54
seven-class dense set; a 20k x 50k CSR set at 0.1 % density), plus a track of fastmlp's
speed ratio (scikit-learn's time / fastmlp's, medians of alternating fits)."""
import time
import warnings

import numpy as np

from .linear import CASES, fit_once, make_case

_DATA = {}


def _case(name):
    if name not in _DATA:
        _DATA[name] = make_case(name)
    return _DATA[name]


class TimePerceptronFit:
    params = [CASES]
    param_names = ["case"]
    timeout = 600.0
    repeat = (1, 5, 60.0)

    def setup(self, name):
        self.X, self.y, self.params = _case(name)

    def time_fit_fastmlp(self, name):
        fit_once("fastmlp", self.X, self.y, self.params)

    def time_fit_sklearn(self, name):
        fit_once("sklearn", self.X, self.y, self.params)


class TrackPerceptronSpeedRatio:
    """scikit-learn's fit time / fastmlp's (> 1: fastmlp is faster), medians of 3
    alternating fits each."""
    params = [CASES]
    param_names = ["case"]
    timeout = 600.0
    unit = "ratio"

    def setup(self, name):
        self.X, self.y, self.params = _case(name)

    def track_speed_ratio(self, name):
        t = {"fastmlp": [], "sklearn": []}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                for lib in t:
                    t0 = time.perf_counter()
                    fit_once(lib, self.X, self.y, self.params)
                    t[lib].append(time.perf_counter() - t0)
        return float(np.median(t["sklearn"]) / np.median(t["fastmlp"]))
