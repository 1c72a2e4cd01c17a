"""Training: the one loop that drives the engine (:mod:`.loop`), what a run records
(:mod:`.history`), what it does between epochs (:mod:`.callbacks`), the loss and gradient
computed outside the fused step (:mod:`.objective`), the data a run trains on
(:mod:`.data`), ``MLP.fit``'s options (:mod:`.fit`), and the learning-rate searches
(:mod:`.lr_search`, results in :mod:`.lr_results`), and the HTML report of a run
(:mod:`.report`).
"""
from .callbacks import Callback, EarlyStopping, EpochLogger, NoImprovement, ProgressBar
from .fit import fit
from .history import DivergenceWarning, History, StopTraining
from .loop import Run, best_of_restarts, restart_workers, run_concurrently
from .lr_results import LRRangeResult, LRSweepResult, SweepDivergedError
from .lr_search import default_lrs, lr_range_test, lr_sweep
from .report import Report

__all__ = ["fit", "Run", "History", "Callback", "EarlyStopping", "NoImprovement",
           "ProgressBar", "EpochLogger", "StopTraining", "DivergenceWarning",
           "best_of_restarts", "restart_workers", "run_concurrently", "lr_sweep",
           "lr_range_test", "default_lrs", "LRSweepResult", "LRRangeResult",
           "SweepDivergedError", "Report"]
