/* hll — see hll.h. Estimator: O. Ertl, "New cardinality estimation
 * algorithms for HyperLogLog sketches" (2017), section 3.4. */
#include "base/hll.h"

#include <math.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define HLL_Q (64 - HLL_PRECISION) /* bits left for the rank */

uint64_t hll_hash(const void *p, size_t len)
{
    return XXH3_64bits(p, len);
}

int hll_add(uint8_t *regs, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> HLL_Q);
    uint64_t rest = hash << HLL_PRECISION;
    /* Rank: leading zeros of the remaining HLL_Q bits plus one. */
    uint8_t rank = rest == 0 ? HLL_Q + 1 : (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > HLL_Q + 1) rank = HLL_Q + 1;
    if (regs[idx] >= rank) return 0;
    regs[idx] = rank;
    return 1;
}

static double sigma(double x)
{
    if (x == 1.0) return INFINITY;
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

static double tau(double x)
{
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

double hll_estimate(const uint8_t *regs)
{
    unsigned counts[HLL_Q + 2] = {0};
    for (uint32_t i = 0; i < HLL_REGISTERS; i++)
        counts[regs[i] > HLL_Q + 1 ? HLL_Q + 1 : regs[i]]++;
    const double m = HLL_REGISTERS;
    if (counts[0] == HLL_REGISTERS) return 0.0;
    double z = m * tau(1.0 - counts[HLL_Q + 1] / m);
    for (int k = HLL_Q; k >= 1; k--)
        z = 0.5 * (z + counts[k]);
    z += m * sigma(counts[0] / m);
    return m * m / (2.0 * log(2.0) * z);
}
