/* rng.c -- a counter-based generator. Every random number is a pure function of
   (seed, counter), so a permutation is the same whatever threads or call order produce it. */
#include "fastmlp.h"

uint64_t fm_random_u64(uint64_t seed, uint64_t counter) {
    /* SplitMix64's finaliser applied to the counter's position in the seed's sequence */
    uint64_t z = seed + (counter + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void fm_permutation(uint64_t seed, uint64_t stream, int64_t N, int64_t *perm) {
    uint64_t key = fm_random_u64(seed ^ 0x5DEECE66DULL, stream);
    for (int64_t i = 0; i < N; ++i) perm[i] = i;
    /* Fisher-Yates from the top; j uniform in [0, i] by a 64x64->128 multiply (bias < 2^-40) */
    for (int64_t i = N - 1; i > 0; --i) {
        uint64_t r = fm_random_u64(key, (uint64_t)i);
        int64_t j = (int64_t)(((unsigned __int128)r * (uint64_t)(i + 1)) >> 64);
        int64_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

/* NumPy's PCG64 (a 128-bit LCG with the XSL-RR output), seeded the way numpy.random.PCG64
   seeds itself from SeedSequence(seed).generate_state(4, uint64): words[0..1] the state's
   high and low halves, words[2..3] the increment's. Each draw steps, then outputs. */
typedef unsigned __int128 fm_u128;
#define FM_PCG_MULT (((fm_u128)0x2360ED051FC65DA4ULL << 64) | 0x4385DF649FCCF645ULL)

static inline void pcg_step(fm_u128 *state, fm_u128 inc) { *state = *state * FM_PCG_MULT + inc; }

static inline uint64_t pcg_next(fm_u128 *state, fm_u128 inc) {
    pcg_step(state, inc);
    const uint64_t x = (uint64_t)(*state >> 64) ^ (uint64_t)*state;
    const unsigned rot = (unsigned)(*state >> 122);
    return (x >> rot) | (x << ((64 - rot) & 63));
}

void fm_uniform_fill(const uint64_t words[4], int n_seg, const int64_t *off,
                     const int64_t *count, const double *low, const double *high, void *out,
                     int is_double) {
    fm_u128 inc = ((((fm_u128)words[2] << 64) | words[3]) << 1) | 1u;
    fm_u128 state = 0;
    pcg_step(&state, inc);
    state += ((fm_u128)words[0] << 64) | words[1];
    pcg_step(&state, inc);
    for (int s = 0; s < n_seg; ++s) {
        /* Generator.uniform: low + (high - low) * u, u = (next >> 11) * 2^-53, in double (two
           roundings: no fused multiply-add) and then stored in the output's type */
        const double lo = low[s], range = high[s] - low[s];
        for (int64_t i = 0; i < count[s]; ++i) {
            volatile double scaled = range * ((double)(pcg_next(&state, inc) >> 11) *
                                              (1.0 / 9007199254740992.0));
            const double v = lo + scaled;
            if (is_double)
                ((double *)out)[off[s] + i] = v;
            else
                ((float *)out)[off[s] + i] = (float)v;
        }
    }
}
