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
