/* lbfgs_search.c -- Moré and Thuente's line search (ACM TOMS 20(3), 1994) as MINPACK-2's
   dcsrch/dcstep run it, for the engine's L-BFGS: the C form of
   fastmlp.training.lbfgs.MoreThuente, operation for operation (tests compare their trial
   steps bit for bit), so that a whole L-BFGS iteration runs without Python between the
   objective's evaluations (fastmlp._core.lbfgs_run). Scalar arithmetic only.

   Python's max(a, b) is b if b > a else a and min(a, b) is b if b < a else a; MAX2/MIN2 keep
   that (it matters only for NaNs and signed zeros). Python's x ** 2 is libm's pow(x, 2), used
   here too. */
#include "fastmlp.h"

#include <math.h>

#define MAX2(a, b) ((b) > (a) ? (b) : (a))
#define MIN2(a, b) ((b) < (a) ? (b) : (a))

void fm_lbfgs_search_init(fm_lbfgs_search *ls, double f0, double g0, double stp, double ftol,
                          double gtol, double xtol, double stpmin, double stpmax)
{
    ls->stp = stp;
    ls->finit = f0;
    ls->ginit = g0;
    ls->gtest = ftol * g0;
    ls->gtol = gtol;
    ls->xtol = xtol;
    ls->stpmin = stpmin;
    ls->stpmax = stpmax;
    ls->brackt = 0;
    ls->stage = 1;
    ls->width = stpmax - stpmin;
    ls->width1 = ls->width / 0.5;
    ls->stx = 0.0, ls->fx = f0, ls->gx = g0;    /* the best step so far */
    ls->sty = 0.0, ls->fy = f0, ls->gy = g0;    /* the other end of the interval */
    ls->stmin = 0.0;
    ls->stmax = stp + 4.0 * stp;
}

/* the minimiser of the cubic through (sa, fa, da) and (sb, fb, db), measured from sa (from_x)
   or from sb */
static double stp_cubic(double sa, double fa, double da, double sb, double fb, double db,
                        int from_x)
{
    const double theta = 3.0 * (fa - fb) / (sb - sa) + da + db;
    const double s = MAX2(MAX2(fabs(theta), fabs(da)), fabs(db));
    const double v = pow(theta / s, 2.0) - (da / s) * (db / s);
    double gamma = s * (v >= 0.0 ? sqrt(v) : NAN);
    if (from_x) {
        if (sb < sa) gamma = -gamma;
        const double p = (gamma - da) + theta;
        const double q = ((gamma - da) + gamma) + db;
        return sa + p / q * (sb - sa);
    }
    if (sb > sa) gamma = -gamma;
    const double p = (gamma - db) + theta;
    const double q = ((gamma - db) + gamma) + da;
    return sb + p / q * (sa - sb);
}

/* one safeguarded step (dcstep) from the trial (stp, fp, dp), of phi, or of psi when shift is
   gtest (the ends' values then taken as f - t shift) */
static void dcstep(fm_lbfgs_search *ls, double fp, double dp, double shift)
{
    double stx = ls->stx, sty = ls->sty;
    const double stp = ls->stp;
    double fx = ls->fx - stx * shift, dx = ls->gx - shift;
    double fy = ls->fy - sty * shift, dy = ls->gy - shift;
    const double sgnd = dp * (dx / fabs(dx));
    double stpf;
    if (fp > fx) {
        /* 1. a higher value: bracketed; the cubic step if closer to stx than the quadratic
           one, else their mean */
        const double stpc = stp_cubic(stx, fx, dx, stp, fp, dp, 1);
        const double stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2.0) * (stp - stx);
        stpf = fabs(stpc - stx) < fabs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2.0;
        ls->brackt = 1;
    } else if (sgnd < 0.0) {
        /* 2. a lower value, slopes of opposite sign: bracketed; the cubic step if farther
           from stp than the secant step, else the secant step */
        const double stpc = stp_cubic(stx, fx, dx, stp, fp, dp, 0);
        const double stpq = stp + dp / (dp - dx) * (stx - stp);
        stpf = fabs(stpc - stp) > fabs(stpq - stp) ? stpc : stpq;
        ls->brackt = 1;
    } else if (fabs(dp) < fabs(dx)) {
        /* 3. a lower value, slopes of one sign, the slope's size decreasing */
        const double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        const double s = MAX2(MAX2(fabs(theta), fabs(dx)), fabs(dp));
        const double v = MAX2(0.0, pow(theta / s, 2.0) - (dx / s) * (dp / s));
        double gamma = s * (v >= 0.0 ? sqrt(v) : NAN);
        if (stp > stx) gamma = -gamma;
        const double p = (gamma - dp) + theta;
        const double q = (gamma + (dx - dp)) + gamma;
        const double r = p / q;
        double stpc;
        if (r < 0.0 && gamma != 0.0)
            stpc = stp + r * (stx - stp);
        else
            stpc = stp > stx ? ls->stpmax : ls->stpmin;
        const double stpq = stp + dp / (dp - dx) * (stx - stp);
        if (ls->brackt) {
            stpf = fabs(stpc - stp) < fabs(stpq - stp) ? stpc : stpq;
            const double lim = stp + 0.66 * (sty - stp);
            stpf = stp > stx ? MIN2(lim, stpf) : MAX2(lim, stpf);
        } else {
            stpf = fabs(stpc - stp) > fabs(stpq - stp) ? stpc : stpq;
            stpf = MAX2(ls->stpmin, MIN2(ls->stpmax, stpf));
        }
    } else {
        /* 4. a lower value, slopes of one sign, the slope's size not decreasing */
        if (ls->brackt)
            stpf = stp_cubic(sty, fy, dy, stp, fp, dp, 0);
        else
            stpf = stp > stx ? ls->stpmax : ls->stpmin;
    }
    if (fp > fx) {
        sty = stp, fy = fp, dy = dp;
    } else {
        if (sgnd < 0.0) sty = stx, fy = fx, dy = dx;
        stx = stp, fx = fp, dx = dp;
    }
    ls->stx = stx, ls->fx = fx + stx * shift, ls->gx = dx + shift;
    ls->sty = sty, ls->fy = fy + sty * shift, ls->gy = dy + shift;
    ls->stp = stpf;
}

int fm_lbfgs_search_done(fm_lbfgs_search *ls, double f, double g)
{
    const double stp = ls->stp, gtest = ls->gtest;
    const double ftest = ls->finit + stp * gtest;
    if (ls->stage == 1 && f <= ftest && g >= 0.0) ls->stage = 2;
    if (ls->brackt && (stp <= ls->stmin || stp >= ls->stmax ||
                       ls->stmax - ls->stmin <= ls->xtol * ls->stmax))
        return 1;                        /* rounding errors or xtol: no more progress */
    if (stp == ls->stpmax && f <= ftest && g <= gtest) return 1;
    if (stp == ls->stpmin && (f > ftest || g >= gtest)) return 1;
    if (f <= ftest && fabs(g) <= ls->gtol * (-ls->ginit)) return 1;   /* both conditions */
    if (ls->stage == 1 && f <= ls->fx && f > ftest)
        /* a lower value but not a sufficient decrease: step on the modified function
           psi(t) = phi(t) - phi(0) - t ftol phi'(0), whose values differ by t gtest */
        dcstep(ls, f - stp * gtest, g - gtest, gtest);
    else
        dcstep(ls, f, g, 0.0);
    if (ls->brackt) {
        if (fabs(ls->sty - ls->stx) >= 0.66 * ls->width1)
            ls->stp = ls->stx + 0.5 * (ls->sty - ls->stx);     /* bisect */
        ls->width1 = ls->width;
        ls->width = fabs(ls->sty - ls->stx);
        ls->stmin = MIN2(ls->stx, ls->sty);
        ls->stmax = MAX2(ls->stx, ls->sty);
    } else {
        ls->stmin = ls->stp + 1.1 * (ls->stp - ls->stx);
        ls->stmax = ls->stp + 4.0 * (ls->stp - ls->stx);
    }
    ls->stp = MIN2(MAX2(ls->stp, ls->stpmin), ls->stpmax);
    if (ls->brackt && (ls->stp <= ls->stmin || ls->stp >= ls->stmax ||
                       ls->stmax - ls->stmin <= ls->xtol * ls->stmax))
        ls->stp = ls->stx;               /* no progress possible: the best step */
    return 0;
}
