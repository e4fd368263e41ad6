/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * floor_local — the local floor of a coordinated snapshot: what one PM must
 * do for it with no coordination at all, through the agent's own adapters.
 * Each round takes a durable reflink piece of every volume of a VM
 * (ts_store_take: FICLONE into a temp file, fsync, rename, fsync of the
 * directories) and commits one catalog transaction like the agent's (the
 * normal row with its domain XML, a piece row per volume, an event), and
 * times the two apart and together.
 *
 *   floor_local [--rounds N] [--xml FILE] [--json] STORE_DIR CATALOG_DIR VM VOLUME...
 *
 * STORE_DIR is a reflink store (the volumes are STORE_DIR/VM-VOLUME.img).
 * The volumes are first cloned, untimed, into a scratch store
 * STORE_DIR/.bench-floor-PID on the same filesystem, so the pieces have the
 * same extent maps as the live volumes without touching the store an agent
 * owns.  CATALOG_DIR must not exist: it holds a scratch catalog (put it on
 * the filesystem of the agent's state_dir).  --xml FILE: the domain XML
 * stored with each row (the agent stores the VM's).  Everything made is
 * removed at the end, also after a failure.  Prints "p50_ms p99_ms" of a
 * whole round, or with --json: rounds, volumes, and round/store/catalog
 * {n, min/p50/p90/p99/max/mean in ms}.
 *
 * Built by `make bench`; never part of make check.  Exit status: 0 ok,
 * 1 failure (a message on stderr), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <qb/qblog.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/catalog.h"
#include "adapters/store.h"
#include "bench_util.h"
#include "util.h"

#define ROUNDS_DEFAULT 200
#define ROUNDS_MAX 100000
#define XML_MAX (1u << 20)

struct floor_run {
	const char *store_dir;
	const char *catalog_dir;
	const char *vm;
	const char *const *volumes;
	size_t n_volumes;
	size_t rounds;
	char *xml;
	char scratch[4096];
	size_t n_cloned;                /* volumes cloned into the scratch store */
	struct ts_store *store;
	struct ts_catalog *catalog;
	uint64_t bytes[TS_SNAP_MAX_VOLUMES];
	double *round_ms, *store_ms, *catalog_ms;
};

/* DIR/VM-VOLUME.img, the store's layout (store.h). */
static int volume_path(char *buf, size_t len, const char *dir, const char *vm,
		       const char *volume)
{
	int n = snprintf(buf, len, "%s/%s-%s.img", dir, vm, volume);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Clone one live volume into the scratch store (setup, not timed). */
static int clone_volume(struct floor_run *r, const char *volume)
{
	char src[4096], dst[4096];
	int sfd, dfd, rc = 0;

	if (volume_path(src, sizeof(src), r->store_dir, r->vm, volume) < 0 ||
	    volume_path(dst, sizeof(dst), r->scratch, r->vm, volume) < 0)
		return -ENAMETOOLONG;
	sfd = open(src, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	dfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (dfd < 0) {
		rc = -errno;
		goto close_src;
	}
	if (ioctl(dfd, FICLONE, sfd) < 0) {
		rc = -errno;
		unlink(dst);
	}
	close(dfd);
close_src:
	close(sfd);
	return rc;
}

/* Remove the scratch store: its volumes, its .twinsnap, itself. */
static void scratch_remove(struct floor_run *r)
{
	char path[4096];

	for (size_t i = 0; i < r->n_cloned; i++)
		if (volume_path(path, sizeof(path), r->scratch, r->vm, r->volumes[i]) == 0)
			unlink(path);
	if (snprintf(path, sizeof(path), "%s/.twinsnap", r->scratch) < (int)sizeof(path) &&
	    rmdir(path) < 0 && errno != ENOENT)
		fprintf(stderr, "floor_local: cannot remove %s: %s\n", path, strerror(errno));
	if (rmdir(r->scratch) < 0)
		fprintf(stderr, "floor_local: cannot remove %s: %s\n", r->scratch,
			strerror(errno));
}

static void catalog_remove_dir(const char *dir)
{
	static const char *const files[] = {
		"catalog.db", "catalog.db-wal", "catalog.db-shm", "catalog.db-journal",
		"catalog.lock",
	};
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	if (rmdir(dir) < 0)
		fprintf(stderr, "floor_local: cannot remove %s: %s\n", dir, strerror(errno));
}

static int setup(struct floor_run *r)
{
	char *err = NULL;
	int rc;

	if (snprintf(r->scratch, sizeof(r->scratch), "%s/.bench-floor-%ld", r->store_dir,
		     (long)getpid()) >= (int)sizeof(r->scratch)) {
		fprintf(stderr, "floor_local: %s: %s\n", r->store_dir, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (mkdir(r->scratch, 0700) < 0) {
		rc = -errno;
		fprintf(stderr, "floor_local: %s: %s\n", r->scratch, strerror(-rc));
		return rc;
	}
	for (; r->n_cloned < r->n_volumes; r->n_cloned++) {
		rc = clone_volume(r, r->volumes[r->n_cloned]);
		if (rc < 0) {
			fprintf(stderr, "floor_local: cannot clone %s-%s of %s: %s\n", r->vm,
				r->volumes[r->n_cloned], r->store_dir, strerror(-rc));
			goto drop_scratch;
		}
	}
	rc = ts_store_open("reflink", r->scratch, &r->store, &err);
	if (rc < 0) {
		fprintf(stderr, "floor_local: %s\n", err ? err : strerror(-rc));
		free(err);
		goto drop_scratch;
	}
	for (size_t i = 0; i < r->n_volumes; i++) {
		rc = ts_store_volume_size(r->store, r->vm, r->volumes[i], &r->bytes[i]);
		if (rc < 0) {
			fprintf(stderr, "floor_local: size of %s-%s: %s\n", r->vm, r->volumes[i],
				strerror(-rc));
			goto close_store;
		}
	}
	/* Our own directory: what we remove at the end is only what we made. */
	if (mkdir(r->catalog_dir, 0700) < 0) {
		rc = -errno;
		fprintf(stderr, "floor_local: %s: %s\n", r->catalog_dir, strerror(-rc));
		goto close_store;
	}
	rc = ts_catalog_open(r->catalog_dir, &r->catalog, &err);
	if (rc < 0) {
		fprintf(stderr, "floor_local: %s\n", err ? err : strerror(-rc));
		free(err);
		catalog_remove_dir(r->catalog_dir);
		goto close_store;
	}
	return 0;

close_store:
	ts_store_close(r->store);
	r->store = NULL;
drop_scratch:
	scratch_remove(r);
	return rc;
}

static void teardown(struct floor_run *r)
{
	ts_catalog_close(r->catalog);
	catalog_remove_dir(r->catalog_dir);
	ts_store_close(r->store);
	scratch_remove(r);
}

/* The catalog work of one snapshot on one PM, as one transaction. */
static int commit_row(struct floor_run *r, const char *id, char paths[][4096])
{
	struct ts_snapshot row;
	struct ts_event ev;
	int rc;

	bench_row_normal(&row, id, r->vm, r->volumes, r->bytes, r->n_volumes, ts_wall_ms(),
			 r->xml);
	memset(&ev, 0, sizeof(ev));
	ev.time_ms = row.created_at_ms;
	snprintf(ev.kind, sizeof(ev.kind), "normal");
	snprintf(ev.snapshot, sizeof(ev.snapshot), "%s", id);
	snprintf(ev.vm, sizeof(ev.vm), "%s", r->vm);
	snprintf(ev.message, sizeof(ev.message), "snapshot is normal on both PMs");

	rc = ts_catalog_begin(r->catalog);
	if (rc < 0)
		return rc;
	rc = ts_catalog_put(r->catalog, &row);
	for (size_t i = 0; rc == 0 && i < r->n_volumes; i++)
		rc = ts_catalog_piece_add(r->catalog, id, r->volumes[i], paths[i]);
	if (rc == 0)
		rc = ts_catalog_event_add(r->catalog, &ev);
	if (rc < 0) {
		ts_catalog_abort(r->catalog);
		return rc;
	}
	return ts_catalog_commit(r->catalog);
}

static int one_round(struct floor_run *r, size_t round)
{
	char id[TS_SNAP_ID_LEN + 1];
	char (*paths)[4096] = ts_xcalloc(r->n_volumes, sizeof(*paths));
	const char *what = "take a piece";
	uint64_t t0, t1, t2;
	int rc = 0;

	bench_make_id(id, (uint64_t)getpid(), round);
	t0 = bench_now_ns();
	for (size_t i = 0; rc == 0 && i < r->n_volumes; i++)
		rc = ts_store_take(r->store, id, r->vm, r->volumes[i], paths[i], sizeof(paths[i]));
	t1 = bench_now_ns();
	if (rc == 0) {
		what = "commit the catalog transaction";
		rc = commit_row(r, id, paths);
	}
	t2 = bench_now_ns();
	r->store_ms[round] = bench_ms(t0, t1);
	r->catalog_ms[round] = bench_ms(t1, t2);
	r->round_ms[round] = bench_ms(t0, t2);
	if (rc < 0)
		fprintf(stderr, "floor_local: round %zu: cannot %s: %s\n", round, what,
			strerror(-rc));
	/* Untimed: leave nothing behind (a tombstone stays in the scratch catalog). */
	ts_catalog_remove(r->catalog, id, ts_wall_ms());
	ts_store_remove(r->store, id, NULL);
	free(paths);
	return rc;
}

static void print_results(struct floor_run *r, bool json)
{
	struct bench_stats round, store, catalog;

	bench_stats(r->round_ms, r->rounds, &round);
	bench_stats(r->store_ms, r->rounds, &store);
	bench_stats(r->catalog_ms, r->rounds, &catalog);
	if (!json) {
		printf("%.3f %.3f\n", round.p50, round.p99);
		return;
	}
	printf("{\"rounds\": %zu, \"vm\": \"%s\", \"volumes\": %zu, \"round\": ", r->rounds,
	       r->vm, r->n_volumes);
	bench_stats_print_json(stdout, &round);
	printf(", \"store\": ");
	bench_stats_print_json(stdout, &store);
	printf(", \"catalog\": ");
	bench_stats_print_json(stdout, &catalog);
	printf("}\n");
}

static int usage(void)
{
	fprintf(stderr, "usage: floor_local [--rounds N] [--xml FILE] [--json] "
		"STORE_DIR CATALOG_DIR VM VOLUME...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct floor_run r = { .rounds = ROUNDS_DEFAULT };
	const char *xml_path = NULL;
	bool json = false;
	uint64_t rounds = ROUNDS_DEFAULT;
	int i, rc, ret = 1;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc &&
			 bench_parse_u64(argv[i + 1], 1, ROUNDS_MAX, &rounds) == 0)
			i++;
		else if (strcmp(argv[i], "--xml") == 0 && i + 1 < argc)
			xml_path = argv[++i];
		else
			return usage();
	}
	if (argc - i < 4 || argc - i - 3 > TS_SNAP_MAX_VOLUMES)
		return usage();
	r.rounds = (size_t)rounds;
	r.store_dir = argv[i];
	r.catalog_dir = argv[i + 1];
	r.vm = argv[i + 2];
	r.volumes = (const char *const *)&argv[i + 3];
	r.n_volumes = (size_t)(argc - i - 3);
	if (!ts_vm_name_valid(r.vm))
		return usage();
	for (size_t v = 0; v < r.n_volumes; v++)
		if (!ts_volume_name_valid(r.volumes[v]))
			return usage();

	qb_log_init("floor_local", LOG_USER, LOG_WARNING);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_WARNING);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);

	if (xml_path && (rc = bench_read_file(xml_path, XML_MAX, &r.xml)) < 0) {
		fprintf(stderr, "floor_local: %s: %s\n", xml_path, strerror(-rc));
		goto fini_log;
	}
	r.round_ms = ts_xcalloc(r.rounds, sizeof(double));
	r.store_ms = ts_xcalloc(r.rounds, sizeof(double));
	r.catalog_ms = ts_xcalloc(r.rounds, sizeof(double));
	if (setup(&r) < 0)
		goto free_bufs;
	for (size_t n = 0; n < r.rounds; n++)
		if (one_round(&r, n) < 0)
			goto teardown;
	print_results(&r, json);
	ret = 0;
teardown:
	teardown(&r);
free_bufs:
	free(r.round_ms);
	free(r.store_ms);
	free(r.catalog_ms);
	free(r.xml);
fini_log:
	qb_log_fini();
	return ret;
}
