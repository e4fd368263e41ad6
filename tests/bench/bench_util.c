/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_util — shared by the make bench programs (see bench_util.h). */
#include "config.h"
#include "bench_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_ms(uint64_t from, uint64_t to)
{
	return to >= from ? (double)(to - from) / 1e6 : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least @pct % of them at or below it. */
static double rank(const double *v, size_t n, unsigned pct)
{
	size_t k = (pct * n + 99) / 100;

	return v[k ? k - 1 : 0];
}

void bench_stats(double *v, size_t n, struct bench_stats *out)
{
	double sum = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	out->n = n;
	out->min = v[0];
	out->p50 = rank(v, n, 50);
	out->p90 = rank(v, n, 90);
	out->p99 = rank(v, n, 99);
	out->max = v[n - 1];
	out->mean = sum / (double)n;
}

void bench_stats_print_json(FILE *f, const struct bench_stats *s)
{
	fprintf(f, "{\"n\": %zu, \"min_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
		"\"p99_ms\": %.3f, \"max_ms\": %.3f, \"mean_ms\": %.3f}", s->n, s->min, s->p50,
		s->p90, s->p99, s->max, s->mean);
}

int bench_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int bench_read_file(const char *path, size_t max, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int rc = 0;

	if (!f)
		return -errno;
	buf = malloc(max);
	if (!buf) {
		rc = -ENOMEM;
		goto close;
	}
	n = fread(buf, 1, max - 1, f);
	if (ferror(f) || !feof(f)) {
		rc = ferror(f) ? -EIO : -EFBIG;
		free(buf);
		goto close;
	}
	buf[n] = '\0';
	*out = buf;
close:
	fclose(f);
	return rc;
}

void bench_row_normal(struct ts_snapshot *row, const char *id, const char *vm,
		      const char *const *volumes, const uint64_t *bytes, size_t n,
		      int64_t created_at_ms, char *xml)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->id, sizeof(row->id), "%s", id);
	snprintf(row->vm, sizeof(row->vm), "%s", vm);
	row->consistency_requested = TS_CONS_CRASH;
	row->consistency_achieved = TS_CONS_CRASH;
	for (size_t i = 0; i < n && i < TS_SNAP_MAX_VOLUMES; i++) {
		snprintf(row->volumes[i], sizeof(row->volumes[i]), "%s", volumes[i]);
		row->volume_bytes[i] = bytes[i];
		row->n_volumes++;
	}
	row->created_at_ms = created_at_ms;
	row->origin = 1;
	row->primary = 1;
	row->secondary = 2;
	row->phase = TS_PH_NORMAL;
	row->taken_by[0] = row->taken_by[1] = true;
	row->sent_taken = true;
	row->domain_xml = xml;
}

void bench_make_id(char id[TS_SNAP_ID_LEN + 1], uint64_t hi, uint64_t lo)
{
	snprintf(id, TS_SNAP_ID_LEN + 1, "%016llx%016llx", (unsigned long long)hi,
		 (unsigned long long)lo);
}
