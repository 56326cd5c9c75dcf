/* hll — a HyperLogLog sketch of distinct 64-bit hashes: HLL_REGISTERS
 * one-byte registers (precision 14, a standard error of about 0.8 %),
 * estimated with Ertl's improved estimator (unbiased over the whole range,
 * no bias tables). Callers hash their keys with hll_hash. The registers
 * are plain bytes, so a sketch is stored as a blob and merged by max.
 * Pure functions, any thread. */
#ifndef PERISCOPE_BASE_HLL_H
#define PERISCOPE_BASE_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_PRECISION 14
#define HLL_REGISTERS (1u << HLL_PRECISION)

/* A well-mixed 64-bit hash of len bytes (XXH3). */
uint64_t hll_hash(const void *p, size_t len);

/* Adds a hash to regs (HLL_REGISTERS bytes); 1 when a register grew. */
int hll_add(uint8_t *regs, uint64_t hash);

/* The estimated number of distinct hashes added to regs. */
double hll_estimate(const uint8_t *regs);

#endif
