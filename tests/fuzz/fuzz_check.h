/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_check — the one way a harness reports a broken invariant: a message
 * naming the harness, then abort(), which libFuzzer and the replay both
 * treat as a failure.  Define FUZZ_NAME before including.
 */
#ifndef TS_FUZZ_CHECK_H
#define TS_FUZZ_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_check.h"
#endif

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, FUZZ_NAME ": check failed: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

#endif
