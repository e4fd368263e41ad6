/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog_fill — a large catalog for the scale figures of make bench: adds
 * N snapshots of one VM, normal on the pair of nodeids 1 and 2, to the
 * catalog in STATE_DIR through the agent's catalog adapter, as the agent
 * would have persisted them.  Run it once per PM, while the PM's agent is
 * stopped (the catalog is locked while it runs), with the same --seed on
 * both: ids, times and contents are a function of the seed and the row
 * number, so the two catalogs come out identical and the agents find
 * nothing to reconcile.
 *
 *   catalog_fill [--seed S] [--xml FILE] [--take] STATE_DIR STORE_DIR N VM VOLUME...
 *
 * Each row has a piece per volume.  Without --take the piece rows name
 * STORE_DIR/.twinsnap/ID/VOLUME.img but no file is made (start-up checks
 * only that each piece on disk has a row, not the reverse, so such rows
 * survive; deleting them works, there being nothing to remove).  With
 * --take each piece is a real reflink taken by ts_store_take from
 * STORE_DIR (slower: three fsyncs a piece).  Volume sizes are read from
 * STORE_DIR.  Rows are committed 1,000 to a transaction.  --xml FILE: the
 * domain XML stored with each row.  Prints one line: rows, seconds.
 *
 * Built by `make bench`; never part of make check.  Exit status: 0 ok,
 * 1 failure (a message on stderr), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/catalog.h"
#include "adapters/store.h"
#include "bench_util.h"
#include "util.h"

#define BATCH 1000
#define ROWS_MAX 10000000u
#define SEED_DEFAULT 0xbe7cu
#define CREATED_AT_BASE_MS 1700000000000LL      /* 2023-11-14; one row a second after */
#define XML_MAX (1u << 20)

struct fill {
	const char *state_dir;
	const char *store_dir;
	const char *vm;
	const char *const *volumes;
	size_t n_volumes;
	uint64_t rows;
	uint64_t seed;
	bool take;
	char *xml;
	uint64_t bytes[TS_SNAP_MAX_VOLUMES];
	struct ts_catalog *catalog;
	struct ts_store *store;
};

/* One snapshot: its pieces (with --take) and its rows, in the open transaction. */
static int add_one(struct fill *f, uint64_t i)
{
	char id[TS_SNAP_ID_LEN + 1], path[TS_CATALOG_PATH_MAX];
	struct ts_snapshot row;
	int rc;

	bench_make_id(id, f->seed, i);
	bench_row_normal(&row, id, f->vm, f->volumes, f->bytes, f->n_volumes,
			 CREATED_AT_BASE_MS + (int64_t)i * 1000, f->xml);
	rc = ts_catalog_put(f->catalog, &row);
	for (size_t v = 0; rc == 0 && v < f->n_volumes; v++) {
		if (f->take) {
			rc = ts_store_take(f->store, id, f->vm, f->volumes[v], path, sizeof(path));
		} else {
			int n = snprintf(path, sizeof(path), "%s/.twinsnap/%s/%s.img",
					 f->store_dir, id, f->volumes[v]);

			rc = n < 0 || (size_t)n >= sizeof(path) ? -ENAMETOOLONG : 0;
		}
		if (rc == 0)
			rc = ts_catalog_piece_add(f->catalog, id, f->volumes[v], path);
	}
	if (rc < 0)
		fprintf(stderr, "catalog_fill: snapshot %s: %s\n", id, strerror(-rc));
	return rc;
}

static int fill_rows(struct fill *f)
{
	int rc = 0;

	for (uint64_t i = 0; rc == 0 && i < f->rows; i += BATCH) {
		rc = ts_catalog_begin(f->catalog);
		for (uint64_t k = i; rc == 0 && k < i + BATCH && k < f->rows; k++)
			rc = add_one(f, k);
		if (rc == 0)
			rc = ts_catalog_commit(f->catalog);
		else
			ts_catalog_abort(f->catalog);
	}
	return rc;
}

static int run(struct fill *f)
{
	char *err = NULL;
	int rc;

	rc = ts_store_open("reflink", f->store_dir, &f->store, &err);
	if (rc < 0) {
		fprintf(stderr, "catalog_fill: %s\n", err ? err : strerror(-rc));
		free(err);
		return rc;
	}
	for (size_t v = 0; v < f->n_volumes; v++) {
		rc = ts_store_volume_size(f->store, f->vm, f->volumes[v], &f->bytes[v]);
		if (rc < 0) {
			fprintf(stderr, "catalog_fill: volume %s-%s in %s: %s\n", f->vm,
				f->volumes[v], f->store_dir, strerror(-rc));
			goto close_store;
		}
	}
	rc = ts_catalog_open(f->state_dir, &f->catalog, &err);
	if (rc < 0) {
		fprintf(stderr, "catalog_fill: %s\n", err ? err : strerror(-rc));
		free(err);
		goto close_store;
	}
	rc = fill_rows(f);
	ts_catalog_close(f->catalog);
close_store:
	ts_store_close(f->store);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: catalog_fill [--seed S] [--xml FILE] [--take] "
		"STATE_DIR STORE_DIR N VM VOLUME...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct fill f = { .seed = SEED_DEFAULT };
	const char *xml_path = NULL;
	uint64_t t0;
	int i, rc, ret = 1;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--take") == 0)
			f.take = true;
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc &&
			 bench_parse_u64(argv[i + 1], 0, UINT64_MAX, &f.seed) == 0)
			i++;
		else if (strcmp(argv[i], "--xml") == 0 && i + 1 < argc)
			xml_path = argv[++i];
		else
			return usage();
	}
	if (argc - i < 5 || argc - i - 4 > TS_SNAP_MAX_VOLUMES ||
	    bench_parse_u64(argv[i + 2], 1, ROWS_MAX, &f.rows) < 0)
		return usage();
	f.state_dir = argv[i];
	f.store_dir = argv[i + 1];
	f.vm = argv[i + 3];
	f.volumes = (const char *const *)&argv[i + 4];
	f.n_volumes = (size_t)(argc - i - 4);
	if (!ts_vm_name_valid(f.vm))
		return usage();
	for (size_t v = 0; v < f.n_volumes; v++)
		if (!ts_volume_name_valid(f.volumes[v]))
			return usage();

	qb_log_init("catalog_fill", LOG_USER, LOG_WARNING);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_WARNING);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);

	if (xml_path && (rc = bench_read_file(xml_path, XML_MAX, &f.xml)) < 0) {
		fprintf(stderr, "catalog_fill: %s: %s\n", xml_path, strerror(-rc));
		goto fini_log;
	}
	t0 = bench_now_ns();
	if (run(&f) == 0) {
		printf("%llu rows in %.1f s\n", (unsigned long long)f.rows,
		       bench_ms(t0, bench_now_ns()) / 1000.0);
		ret = 0;
	}
	free(f.xml);
fini_log:
	qb_log_fini();
	return ret;
}
