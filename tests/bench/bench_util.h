/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_util — what the make bench programs (tests/bench/) share: the
 * monotonic clock, percentiles of a set of timings and their printing, and
 * a snapshot row shaped like the ones the agent writes.
 */
#ifndef TS_BENCH_UTIL_H
#define TS_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/snapshot.h"

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/** Milliseconds between two bench_now_ns() readings. */
double bench_ms(uint64_t from, uint64_t to);

/** Summary of a set of timings (milliseconds). */
struct bench_stats {
	size_t n;
	double min, p50, p90, p99, max, mean;
};

/**
 * Sort @v[0..n) in place and summarise it; percentiles are nearest-rank
 * (p99 of 200 values is the 198th smallest).  All zero when @n is 0.
 */
void bench_stats(double *v, size_t n, struct bench_stats *out);

/** Print @s as one JSON object (no newline): {"n": …, "p50_ms": …, …}. */
void bench_stats_print_json(FILE *f, const struct bench_stats *s);

/**
 * Parse a decimal in [@lo, @hi] that is the whole of @s.
 * @return 0; -EINVAL
 */
int bench_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/**
 * Read the whole file @path (less than @max bytes) into *@out, malloc'd and
 * NUL-terminated; the caller frees it.
 * @return 0; -EFBIG (@max or more); -ENOMEM; -errno
 */
int bench_read_file(const char *path, size_t max, char **out);

/**
 * Fill @row as a crash-consistent snapshot of @vm's @n volumes (names and
 * sizes) that is normal on a pair of nodeids 1 (primary) and 2, as the
 * agent persists one once both TAKEN are delivered.  @id: 32 lowercase
 * hex.  domain_xml is @xml (borrowed, may be NULL).
 */
void bench_row_normal(struct ts_snapshot *row, const char *id, const char *vm,
		      const char *const *volumes, const uint64_t *bytes, size_t n,
		      int64_t created_at_ms, char *xml);

/** The snapshot id made of @hi and @lo as 16 hex digits each (32 lowercase hex). */
void bench_make_id(char id[TS_SNAP_ID_LEN + 1], uint64_t hi, uint64_t lo);

#endif
