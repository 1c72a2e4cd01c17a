/* team.c -- the size of a team (team.h). */
#include "team.h"

/* Measured on the 2-vCPU Zen 4 (train_epochs, 2 threads; a team with its spin barrier vs one
   thread per step whose large GEMMs fork/join on their own), samples/s:
     mnist  (39 Mflop/step)  368k vs 230k     wide   (2.9 Gflop/step) 19.1k vs 16.8k
     digits (0.9 Mflop/step) 1.51M vs 1.52M   regression (0.9 Mflop)  1.06M vs 1.10M
     online (0.6 Mflop/step) 54k vs 73k       xor: no difference
   so steps of >= 4 Mflop run on a team. */
int fm_team_size(int nthreads, double flops) {
    const double min_flops = fm_get_team_min_flops();
    int nt = fm_nthreads(nthreads);
    if (nt > FM_TEAM_MAX) nt = FM_TEAM_MAX;
    if (flops < min_flops) return 1;
    if (min_flops <= 0) return nt;
    double cap = flops / (min_flops * 0.5);   /* at least half the threshold each */
    return (double)nt < cap ? nt : (cap < 1 ? 1 : (int)cap);
}
