/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util — the small things every adapter needs: allocation that aborts on
 * out-of-memory (so call sites carry no NULL-check noise; the daemon cannot
 * do anything useful without memory), monotonic time, fd flags.
 */
#ifndef TS_UTIL_H
#define TS_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *ts_xmalloc(size_t n);
void *ts_xcalloc(size_t n, size_t size);
char *ts_xstrdup(const char *s);
/** printf into a new string; aborts on out-of-memory. */
char *ts_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Unix time (CLOCK_REALTIME) in milliseconds, for timestamps people read. */
int64_t ts_wall_ms(void);

/** CLOCK_MONOTONIC in milliseconds. */
uint64_t ts_now_ms(void);
/* monotonic microseconds (phase timings) */
uint64_t ts_now_us(void);

/** Set O_NONBLOCK and FD_CLOEXEC; 0 or -errno. */
int ts_fd_nonblock_cloexec(int fd);

/** Replace control and non-ASCII bytes by '?' and cut at @max (for logging input). */
void ts_sanitize_for_log(const char *in, char *out, size_t max);

#endif
