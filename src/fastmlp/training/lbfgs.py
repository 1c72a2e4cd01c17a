"""L-BFGS for the engine's whole-set objective: scipy's L-BFGS-B without bounds, step by step.

scikit-learn's ``solver="lbfgs"`` runs ``scipy.optimize.minimize(method="L-BFGS-B")`` with no
bounds. Without bounds, L-BFGS-B's generalised Cauchy point and subspace minimisation come down
to the quasi-Newton step d = -H g of the limited-memory BFGS matrix, which the two-loop
recursion (Nocedal & Wright, *Numerical Optimization*, Algorithm 7.4) computes in O(m n)
without the compact representation's small dense factorisations. :func:`minimize` runs that
algorithm and keeps L-BFGS-B's choices one by one, so that it takes the same steps (up to
rounding) and stops for the same reasons:

- H0 = I / theta, theta = y'y / s'y of the newest pair (1 with no pair); at most ``m`` pairs;
- the first step is 1/||d|| along d = -g, every later one starts at 1;
- the line search is Moré and Thuente's (:class:`MoreThuente`: ftol 1e-3, gtol 0.9, xtol
  0.1, steps in [0, 1e10]), with at most ``maxls`` trial points;
- a pair is skipped when s'y <= eps * (-g's) (no curvature);
- a failed line search (an ascent direction, or ``maxls`` trials) returns to the last iterate,
  forgets the pairs and tries again along -g; when there were no pairs, the run ends
  ("ABNORMAL");
- after each iteration: ``maxiter`` iterations, then more than ``maxfun`` evaluations (the
  first included) stop it (status 1); then max|g_i| <= ``gtol`` or
  (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ``ftol`` is convergence (status 0);
- status and message as scipy's result gives them; when the line search gives up, x is the
  last iterate and ``fun`` the last value evaluated, as in scipy's result.

A new iterate whose loss or gradient is not finite ends the run (status 2), where L-BFGS-B
would go on to search from it. The iterations run in C (``fastmlp._core.lbfgs_run``: the
vector work of ``LbfgsMemory`` and ``lbfgs_*``, and the line search of ``LbfgsSearch``, the C
form of :class:`MoreThuente`, which gives its trial steps bit for bit): Python runs only the
evaluations ``fg(x, g)``, with no allocation and no Python loop over the vector.
:class:`MoreThuente` stays as the line search's readable statement, against which the C one is
tested.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import _core

EPS = float(np.finfo(float).eps)
FTOL = 2.2204460492503131e-09     # scipy's default ftol (factr 1e7)
STPMAX = 1e10

MESSAGES = {
    "grad": "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL",
    "f": "CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH",
    "maxfun": "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT",
    "maxiter": "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT",
    "abnormal": "ABNORMAL: ",
}


@dataclass
class LbfgsResult:
    """What :func:`minimize` ends with (the fields of scipy's ``OptimizeResult`` that
    scikit-learn reads). status: 0 converged, 1 ``maxiter`` or ``maxfun`` reached, 2 the line
    search failed or the run diverged."""
    x: np.ndarray
    fun: float
    nit: int
    nfev: int
    status: int
    message: str

    @property
    def success(self) -> bool:
        return self.status == 0


class MoreThuente:
    """Moré and Thuente's line search (ACM TOMS 20(3), 1994), as MINPACK-2 runs it: find a
    step stp > 0 along d with the sufficient decrease phi(stp) <= phi(0) + ftol stp phi'(0)
    and the curvature condition |phi'(stp)| <= gtol |phi'(0)|.

    Made with phi(0), phi'(0) < 0 and the first trial step; then ``done(f, g)`` takes phi and
    phi' at ``stp`` and says whether stp is accepted (the conditions hold, or the interval of
    uncertainty can shrink no more), or else sets ``stp`` to the next trial."""
    __slots__ = ("stp", "finit", "ginit", "gtest", "gtol", "xtol", "stpmin", "stpmax",
                 "brackt", "stage", "width", "width1", "stx", "fx", "gx", "sty", "fy", "gy",
                 "stmin", "stmax")

    def __init__(self, f0, g0, stp, *, ftol=1e-3, gtol=0.9, xtol=0.1, stpmin=0.0,
                 stpmax=STPMAX):
        self.stp = stp
        self.finit, self.ginit, self.gtest = f0, g0, ftol * g0
        self.gtol, self.xtol, self.stpmin, self.stpmax = gtol, xtol, stpmin, stpmax
        self.brackt, self.stage = False, 1
        self.width = stpmax - stpmin
        self.width1 = self.width / 0.5
        # (stx, fx, gx): the best step so far; (sty, fy, gy): the other end of the interval
        self.stx, self.fx, self.gx = 0.0, f0, g0
        self.sty, self.fy, self.gy = 0.0, f0, g0
        self.stmin, self.stmax = 0.0, stp + 4.0 * stp

    def done(self, f, g) -> bool:
        stp, gtest = self.stp, self.gtest
        ftest = self.finit + stp * gtest
        if self.stage == 1 and f <= ftest and g >= 0.0:
            self.stage = 2
        if self.brackt and (stp <= self.stmin or stp >= self.stmax
                            or self.stmax - self.stmin <= self.xtol * self.stmax):
            return True                       # rounding errors or xtol: no more progress
        if stp == self.stpmax and f <= ftest and g <= gtest:
            return True
        if stp == self.stpmin and (f > ftest or g >= gtest):
            return True
        if f <= ftest and abs(g) <= self.gtol * (-self.ginit):
            return True                       # both conditions hold
        if self.stage == 1 and f <= self.fx and f > ftest:
            # a lower value but not a sufficient decrease: step on the modified function
            # psi(t) = phi(t) - phi(0) - t ftol phi'(0), whose values differ by t * gtest
            self._step(f - stp * gtest, g - gtest, gtest)
        else:
            self._step(f, g, 0.0)
        if self.brackt:
            if abs(self.sty - self.stx) >= 0.66 * self.width1:
                self.stp = self.stx + 0.5 * (self.sty - self.stx)     # bisect
            self.width1 = self.width
            self.width = abs(self.sty - self.stx)
            self.stmin, self.stmax = min(self.stx, self.sty), max(self.stx, self.sty)
        else:
            self.stmin = self.stp + 1.1 * (self.stp - self.stx)
            self.stmax = self.stp + 4.0 * (self.stp - self.stx)
        self.stp = min(max(self.stp, self.stpmin), self.stpmax)
        if self.brackt and (self.stp <= self.stmin or self.stp >= self.stmax
                            or self.stmax - self.stmin <= self.xtol * self.stmax):
            self.stp = self.stx                # no progress possible: the best step
        return False

    def _step(self, fp, dp, shift):
        """One safeguarded step (MINPACK-2's dcstep): from the interval's ends and the trial
        (stp, fp, dp), all of one function (phi, or psi when ``shift`` = gtest, with its
        values at the ends taken as f - t * shift), choose the next trial step and update the
        ends."""
        stx, sty, stp = self.stx, self.sty, self.stp
        fx, dx = self.fx - stx * shift, self.gx - shift
        fy, dy = self.fy - sty * shift, self.gy - shift
        sgnd = dp * _q(dx, abs(dx))
        if fp > fx:
            # 1. a higher value: the minimum is bracketed; the cubic step if it is closer to
            #    stx than the quadratic one, else their mean
            stpc = stp_cubic(stx, fx, dx, stp, fp, dp, from_x=True)
            stpq = stx + (_q(dx, _q(fx - fp, stp - stx) + dx) / 2.0) * (stp - stx)
            stpf = stpc if abs(stpc - stx) < abs(stpq - stx) else stpc + (stpq - stpc) / 2.0
            self.brackt = True
        elif sgnd < 0.0:
            # 2. a lower value, slopes of opposite sign: bracketed; the cubic step if it is
            #    farther from stp than the secant step, else the secant step
            stpc = stp_cubic(stx, fx, dx, stp, fp, dp, from_x=False)
            stpq = stp + _q(dp, dp - dx) * (stx - stp)
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            self.brackt = True
        elif abs(dp) < abs(dx):
            # 3. a lower value, slopes of one sign, the slope's size decreasing
            theta = _q(3.0 * (fx - fp), stp - stx) + dx + dp
            s = max(abs(theta), abs(dx), abs(dp))
            gamma = s * _root(max(0.0, _q(theta, s) ** 2 - _q(dx, s) * _q(dp, s)))
            if stp > stx:
                gamma = -gamma
            p = (gamma - dp) + theta
            q = (gamma + (dx - dp)) + gamma
            r = _q(p, q)
            if r < 0.0 and gamma != 0.0:
                stpc = stp + r * (stx - stp)
            else:
                stpc = self.stpmax if stp > stx else self.stpmin
            stpq = stp + _q(dp, dp - dx) * (stx - stp)
            if self.brackt:
                stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
                lim = stp + 0.66 * (sty - stp)
                stpf = min(lim, stpf) if stp > stx else max(lim, stpf)
            else:
                stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
                stpf = max(self.stpmin, min(self.stpmax, stpf))
        else:
            # 4. a lower value, slopes of one sign, the slope's size not decreasing
            if self.brackt:
                stpf = stp_cubic(sty, fy, dy, stp, fp, dp, from_x=False)
            else:
                stpf = self.stpmax if stp > stx else self.stpmin
        if fp > fx:
            sty, fy, dy = stp, fp, dp
        else:
            if sgnd < 0.0:
                sty, fy, dy = stx, fx, dx
            stx, fx, dx = stp, fp, dp
        self.stx, self.fx, self.gx = stx, fx + stx * shift, dx + shift
        self.sty, self.fy, self.gy = sty, fy + sty * shift, dy + shift
        self.stp = stpf


def _q(a, b):
    """a / b as C computes it (IEEE 754: b = 0 gives an infinity or NaN, not an exception)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _root(v):
    """sqrt as C computes it (NaN for v < 0)."""
    return math.sqrt(v) if v >= 0.0 else math.nan


def stp_cubic(sa, fa, da, sb, fb, db, *, from_x):
    """The minimiser of the cubic through (sa, fa, da) and (sb, fb, db), measured from sa
    (``from_x``) or from sb."""
    theta = _q(3.0 * (fa - fb), sb - sa) + da + db
    s = max(abs(theta), abs(da), abs(db))
    gamma = s * _root(_q(theta, s) ** 2 - _q(da, s) * _q(db, s))
    if from_x:
        if sb < sa:
            gamma = -gamma
        p = (gamma - da) + theta
        q = ((gamma - da) + gamma) + db
        return sa + _q(p, q) * (sb - sa)
    if sb > sa:
        gamma = -gamma
    p = (gamma - db) + theta
    q = ((gamma - db) + gamma) + da
    return sb + _q(p, q) * (sa - sb)


def minimize(fg: Callable[[np.ndarray, np.ndarray], float], x0, *, maxiter=15000,
             maxfun=15000, gtol=1e-5, ftol=FTOL, m=10, maxls=20) -> LbfgsResult:
    """Minimise f from ``x0`` (see the module's docstring). ``fg(x, g)`` returns f(x) and
    writes the gradient into g (float64 vectors of x0's size; x must not be kept: it is
    reused). Arguments as scipy's L-BFGS-B options of the same names."""
    x = np.array(x0, dtype=np.float64, copy=True).ravel()
    n = x.shape[0]
    if n < 1:
        raise ValueError("x0 must have at least one entry")
    for name, v in (("maxiter", maxiter), ("maxfun", maxfun), ("m", m), ("maxls", maxls)):
        if v < 1:
            raise ValueError(f"{name} must be >= 1, got {v!r}")
    tol = (ftol / EPS) * EPS          # L-BFGS-B's factr * epsmch, as scipy forms it
    f, nit, nfev, status, reason = _core.lbfgs_run(fg, x, maxiter, maxfun, gtol, tol, m, maxls)
    return LbfgsResult(x, float(f), nit, nfev, status, MESSAGES[reason])
