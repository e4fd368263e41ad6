/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the SQLite catalog (adapters/catalog): every field round
 * trips, transactions, tombstones, events, intents, durability across a
 * reopen, and refusal of invalid or hostile input.  Each test gets a fresh
 * temporary state directory.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_common.h"
#include "adapters/catalog.h"

static char tmpdir[] = "/tmp/ts-check-catalog-XXXXXX";
static struct ts_catalog *cat;

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

static void open_catalog(void)
{
	char *err = NULL;

	ck_assert_int_eq(ts_catalog_open(tmpdir, &cat, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(cat);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	open_catalog();
}

static void teardown(void)
{
	ts_catalog_close(cat);
	cat = NULL;
	rm_tree(tmpdir);
	strcpy(tmpdir, "/tmp/ts-check-catalog-XXXXXX");
}

static void reopen(void)
{
	ts_catalog_close(cat);
	cat = NULL;
	open_catalog();
}

/* Run raw SQL on the catalog file through a second connection (test-only). */
static void raw_sql(const char *sql)
{
	char path[256];
	sqlite3 *db;
	char *err = NULL;

	snprintf(path, sizeof(path), "%s/catalog.db", tmpdir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s", err);
	sqlite3_close(db);
}

static void make_id(char *id, unsigned k)
{
	snprintf(id, TS_SNAP_ID_LEN + 1, "%032x", k);
}

static void make_row(struct ts_snapshot *s, unsigned k, const char *vm, int64_t created,
		     enum ts_snap_phase phase)
{
	memset(s, 0, sizeof(*s));
	make_id(s->id, k);
	snprintf(s->vm, sizeof(s->vm), "%s", vm);
	snprintf(s->name, sizeof(s->name), "snap-%u", k);
	snprintf(s->description, sizeof(s->description), "row %u", k);
	s->consistency_requested = TS_CONS_AUTO;
	s->consistency_achieved = TS_CONS_CRASH;
	s->n_volumes = 2;
	strcpy(s->volumes[0], "boot");
	strcpy(s->volumes[1], "data");
	s->volume_bytes[0] = 1u << 30;
	s->volume_bytes[1] = 4096;
	s->created_at_ms = created;
	s->origin = 1;
	s->primary = 1;
	s->secondary = 2;
	s->phase = phase;
}

static void put_ok(const struct ts_snapshot *s)
{
	ck_assert_int_eq(ts_catalog_put(cat, s), 0);
}

static void assert_same(const struct ts_snapshot *a, const struct ts_snapshot *b, bool xml)
{
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->vm, b->vm);
	ck_assert_mem_eq(a->name, b->name, strlen(a->name) + 1);
	ck_assert_mem_eq(a->description, b->description, strlen(a->description) + 1);
	ck_assert_int_eq(a->consistency_requested, b->consistency_requested);
	ck_assert_int_eq(a->consistency_achieved, b->consistency_achieved);
	ck_assert_uint_eq(a->n_volumes, b->n_volumes);
	for (uint32_t i = 0; i < a->n_volumes; i++) {
		ck_assert_str_eq(a->volumes[i], b->volumes[i]);
		ck_assert(a->volume_bytes[i] == b->volume_bytes[i]);
	}
	ck_assert(a->created_at_ms == b->created_at_ms);
	ck_assert_uint_eq(a->origin, b->origin);
	ck_assert(a->request == b->request);
	ck_assert_uint_eq(a->primary, b->primary);
	ck_assert_uint_eq(a->secondary, b->secondary);
	ck_assert_int_eq(a->phase, b->phase);
	ck_assert_int_eq(a->taken_by[0], b->taken_by[0]);
	ck_assert_int_eq(a->taken_by[1], b->taken_by[1]);
	ck_assert_int_eq(a->sent_taken, b->sent_taken);
	ck_assert_int_eq(a->current_config, b->current_config);
	if (!xml)
		return;
	if (!a->domain_xml) {
		ck_assert_ptr_null(b->domain_xml);
	} else {
		ck_assert_ptr_nonnull(b->domain_xml);
		ck_assert_uint_eq(strlen(a->domain_xml), strlen(b->domain_xml));
		ck_assert(strcmp(a->domain_xml, b->domain_xml) == 0);
	}
}

static void assert_get_same(const struct ts_snapshot *want)
{
	struct ts_snapshot got;

	ck_assert_int_eq(ts_catalog_get(cat, want->id, &got), 0);
	assert_same(want, &got, true);
	ts_snapshot_release(&got);
}

static size_t count_rows(void)
{
	struct ts_snapshot *rows;
	size_t n;

	ck_assert_int_eq(ts_catalog_list(cat, NULL, -1, &rows, &n), 0);
	ts_catalog_rows_free(rows, n);
	return n;
}

static size_t count_events(void)
{
	struct ts_event *ev;
	size_t n;

	ck_assert_int_eq(ts_catalog_events(cat, 0, 0, &ev, &n), 0);
	free(ev);
	return n;
}

/* A 64 KiB domain XML with multi-byte text, tabs and newlines. */
static char *big_xml(void)
{
	static const char line[] = "\t<description>caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
				   " &amp; 'q' \"dq\"</description>\r\n";
	size_t size = 64 * 1024, used;
	char *x = malloc(size + 1);

	ck_assert_ptr_nonnull(x);
	used = (size_t)snprintf(x, size + 1, "<domain type='test'>\n");
	while (used + sizeof(line) - 1 + 10 <= size) {
		memcpy(x + used, line, sizeof(line) - 1);
		used += sizeof(line) - 1;
	}
	memcpy(x + used, "</domain>\n", 10);
	used += 10;
	while (used < size)
		x[used++] = ' ';
	x[used] = '\0';
	return x;
}

START_TEST(test_roundtrip_every_field)
{
	struct ts_snapshot s, *rows;
	size_t n;

	make_row(&s, 7, "vm-a.1_x", -5, TS_PH_TAKEN);
	/* 255 bytes of name ending in a multi-byte character, 1023 of description */
	memset(s.name, 'n', sizeof(s.name));
	memcpy(s.name + 252, "\xe2\x82\xac", 3);
	s.name[255] = '\0';
	memset(s.description, 'd', sizeof(s.description));
	memcpy(s.description + 10, "\n\t\xc3\xa9", 4);
	s.description[1023] = '\0';
	s.consistency_requested = TS_CONS_APPLICATION;
	s.consistency_achieved = TS_CONS_APPLICATION;
	s.n_volumes = TS_SNAP_MAX_VOLUMES;
	for (unsigned i = 0; i < TS_SNAP_MAX_VOLUMES; i++) {
		snprintf(s.volumes[i], sizeof(s.volumes[i]), "vol%02u", 15 - i);
		s.volume_bytes[i] = (uint64_t)i << 40;
	}
	memset(s.volumes[3], 'v', TS_VOLUME_NAME_MAX - 1);
	s.volumes[3][TS_VOLUME_NAME_MAX - 1] = '\0';
	s.volume_bytes[0] = UINT64_MAX;
	s.created_at_ms = INT64_C(1712345678901);
	s.origin = UINT32_MAX;
	s.request = UINT64_MAX;
	s.primary = 2;
	s.secondary = UINT32_MAX - 1;
	s.taken_by[0] = true;
	s.sent_taken = true;
	s.current_config = true;
	s.domain_xml = big_xml();
	put_ok(&s);
	assert_get_same(&s);

	/* listing gives the same row without the XML */
	ck_assert_int_eq(ts_catalog_list(cat, NULL, -1, &rows, &n), 0);
	ck_assert_uint_eq(n, 1);
	assert_same(&s, &rows[0], false);
	ck_assert_ptr_null(rows[0].domain_xml);
	ts_catalog_rows_free(rows, n);

	/* put replaces every field: fewer volumes, no XML, flags flipped */
	ts_snapshot_release(&s);
	s.n_volumes = 1;
	strcpy(s.volumes[0], "only");
	s.volume_bytes[0] = 0;
	s.taken_by[0] = false;
	s.taken_by[1] = true;
	s.sent_taken = false;
	s.current_config = false;
	s.phase = TS_PH_NORMAL;
	s.consistency_requested = TS_CONS_CRASH;
	s.consistency_achieved = TS_CONS_CRASH;
	s.origin = 0;
	s.request = 0;
	strcpy(s.name, "renamed");
	put_ok(&s);
	assert_get_same(&s);
	ck_assert_uint_eq(count_rows(), 1);
}
END_TEST

START_TEST(test_get_missing_and_invalid)
{
	struct ts_snapshot s;

	ck_assert_int_eq(ts_catalog_get(cat, "0123456789abcdef0123456789abcdef", &s), -ENOENT);
	ck_assert_ptr_null(s.domain_xml);
	ck_assert_int_eq(ts_catalog_get(cat, "0123456789ABCDEF0123456789abcdef", &s), -EINVAL);
	ck_assert_int_eq(ts_catalog_get(cat, "x' OR '1'='1", &s), -EINVAL);
}
END_TEST

START_TEST(test_list_filters_and_order)
{
	/* (key, vm, created, phase), inserted out of order; 3 and 2 tie on time */
	static const struct { unsigned k; const char *vm; int64_t t; enum ts_snap_phase ph; } in[] = {
		{ 5, "vm2", 500, TS_PH_NORMAL }, { 3, "vm1", 200, TS_PH_CREATED },
		{ 1, "vm1", 100, TS_PH_NORMAL }, { 4, "vm2", 300, TS_PH_PENDING },
		{ 2, "vm1", 200, TS_PH_NORMAL }, { 6, "vm1", -7, TS_PH_FROZEN },
	};
	static const struct { const char *vm; int state; unsigned want[6]; size_t n; } q[] = {
		{ NULL, -1, { 6, 1, 2, 3, 4, 5 }, 6 },
		{ "vm1", -1, { 6, 1, 2, 3 }, 4 },
		{ "vm2", -1, { 4, 5 }, 2 },
		{ NULL, TS_SNAP_NORMAL, { 1, 2, 5 }, 3 },
		{ NULL, TS_SNAP_BROKEN, { 6, 3, 4 }, 3 },
		{ "vm1", TS_SNAP_BROKEN, { 6, 3 }, 2 },
		{ "vm2", TS_SNAP_NORMAL, { 5 }, 1 },
		{ "vm3", -1, { 0 }, 0 },
	};
	struct ts_snapshot s, *rows;
	size_t n;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		make_row(&s, in[i].k, in[i].vm, in[i].t, in[i].ph);
		s.n_volumes = in[i].k % 3;
		put_ok(&s);
	}
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		ck_assert_int_eq(ts_catalog_list(cat, q[i].vm, q[i].state, &rows, &n), 0);
		ck_assert_msg(n == q[i].n, "query %zu: %zu rows", i, n);
		for (size_t j = 0; j < n; j++) {
			char id[TS_SNAP_ID_LEN + 1];

			make_id(id, q[i].want[j]);
			ck_assert_str_eq(rows[j].id, id);
			ck_assert_uint_eq(rows[j].n_volumes, q[i].want[j] % 3);
			ck_assert_ptr_null(rows[j].domain_xml);
		}
		if (n == 0)
			ck_assert_ptr_null(rows);
		ts_catalog_rows_free(rows, n);
	}
	ck_assert_int_eq(ts_catalog_list(cat, "vm/1", -1, &rows, &n), -EINVAL);
	ck_assert_int_eq(ts_catalog_list(cat, NULL, 2, &rows, &n), -EINVAL);
	ck_assert_int_eq(ts_catalog_list(cat, NULL, -2, &rows, &n), -EINVAL);
}
END_TEST

/*
 * Paging walks exactly what one full listing returns, in the same order,
 * for every page size, also across rows that tie on created_at_ms.
 */
START_TEST(test_list_pages)
{
	struct ts_snapshot s, *all, *rows;
	size_t n_all, n;
	bool more;

	for (unsigned k = 1; k <= 23; k++) {
		make_row(&s, k, k % 3 ? "vm1" : "vm2", (int64_t)(k / 4) * 10,
			 k % 5 ? TS_PH_NORMAL : TS_PH_CREATED);
		put_ok(&s);
	}
	for (int f = 0; f < 3; f++) {
		const char *vm = f == 1 ? "vm2" : NULL;
		int state = f == 2 ? TS_SNAP_NORMAL : -1;

		ck_assert_int_eq(ts_catalog_list(cat, vm, state, &all, &n_all), 0);
		for (size_t limit = 1; limit <= 25; limit += 3) {
			struct ts_catalog_cursor cur = TS_CATALOG_CURSOR_START;
			size_t seen = 0, pages = 0;

			do {
				ck_assert_int_eq(ts_catalog_list_page(cat, vm, state, &cur, limit, &rows,
								      &n, &more), 0);
				ck_assert_uint_le(n, limit);
				ck_assert_msg(!more || n == limit, "a short page says more");
				for (size_t j = 0; j < n; j++, seen++) {
					ck_assert_uint_lt(seen, n_all);
					ck_assert_str_eq(rows[j].id, all[seen].id);
				}
				ts_catalog_rows_free(rows, n);
				ck_assert_uint_le(++pages, n_all + 1);
			} while (more);
			ck_assert_msg(seen == n_all, "filter %d, limit %zu: %zu of %zu rows", f, limit,
				      seen, n_all);
		}
		ts_catalog_rows_free(all, n_all);
	}
	{
		struct ts_catalog_cursor cur = TS_CATALOG_CURSOR_START;

		ck_assert_int_eq(ts_catalog_list_page(cat, NULL, -1, &cur, 0, &rows, &n, &more),
				 -EINVAL);
		ck_assert_int_eq(ts_catalog_list_page(cat, "bad/vm", -1, &cur, 5, &rows, &n, &more),
				 -EINVAL);
	}
}
END_TEST

/*
 * The key walk (digest, reconciliation, recovery) sees exactly the rows and
 * phases of a full listing, in its order, for every page size and state.
 */
START_TEST(test_keys_pages)
{
	struct ts_catalog_key keys[25];
	struct ts_snapshot s, *all;
	size_t n_all, n;
	bool more;

	for (unsigned k = 1; k <= 23; k++) {
		make_row(&s, k, k % 3 ? "vm1" : "vm2", (int64_t)(k / 4) * 10,
			 k % 5 ? TS_PH_NORMAL : k % 2 ? TS_PH_PENDING : TS_PH_CREATED);
		put_ok(&s);
	}
	for (int state = -1; state <= TS_SNAP_NORMAL; state++) {
		if (state != -1 && state != TS_SNAP_BROKEN && state != TS_SNAP_NORMAL)
			continue;
		ck_assert_int_eq(ts_catalog_list(cat, NULL, state, &all, &n_all), 0);
		ck_assert_uint_gt(n_all, 0);
		for (size_t limit = 1; limit <= 25; limit += 4) {
			struct ts_catalog_cursor cur = TS_CATALOG_CURSOR_START;
			size_t seen = 0, pages = 0;

			do {
				ck_assert_int_eq(ts_catalog_keys_page(cat, state, &cur, limit, keys, &n,
								      &more), 0);
				ck_assert_uint_le(n, limit);
				ck_assert_msg(!more || n == limit, "a short page says more");
				for (size_t j = 0; j < n; j++, seen++) {
					ck_assert_uint_lt(seen, n_all);
					ck_assert_str_eq(keys[j].id, all[seen].id);
					ck_assert_int_eq(keys[j].phase, all[seen].phase);
					ck_assert_int_eq(keys[j].created_at_ms, all[seen].created_at_ms);
				}
				ck_assert_uint_le(++pages, n_all + 1);
			} while (more);
			ck_assert_msg(seen == n_all, "state %d, limit %zu: %zu of %zu rows", state,
				      limit, seen, n_all);
		}
		ts_catalog_rows_free(all, n_all);
	}
	{
		struct ts_catalog_cursor cur = TS_CATALOG_CURSOR_START;

		ck_assert_int_eq(ts_catalog_keys_page(cat, -1, &cur, 0, keys, &n, &more), -EINVAL);
		ck_assert_int_eq(ts_catalog_keys_page(cat, 7, &cur, 5, keys, &n, &more), -EINVAL);
	}
}
END_TEST

START_TEST(test_in_flight_count)
{
	struct ts_snapshot s;
	size_t n = 99;

	for (int p = 0; p < TS_PH__COUNT; p++) {
		make_row(&s, (unsigned)p + 1, "vm1", p, (enum ts_snap_phase)p);
		put_ok(&s);
	}
	make_row(&s, 100, "vm2", 0, TS_PH_FROZEN);
	put_ok(&s);
	ck_assert_int_eq(ts_catalog_count_in_flight(cat, "vm1", &n), 0);
	ck_assert_uint_eq(n, 4);        /* created, frozen, taken, committing */
	ck_assert_int_eq(ts_catalog_count_in_flight(cat, "vm2", &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ts_catalog_count_in_flight(cat, "vm9", &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ts_catalog_count_in_flight(cat, "", &n), -EINVAL);
}
END_TEST

START_TEST(test_transaction_commit_and_abort)
{
	struct ts_event e = { .time_ms = 1, .kind = "created" };
	struct ts_catalog_piece *pieces;
	struct ts_snapshot s, got;
	size_t n;

	ck_assert_int_eq(ts_catalog_commit(cat), -EINVAL);
	ts_catalog_abort(cat);          /* nothing open: nothing happens */

	ck_assert_int_eq(ts_catalog_begin(cat), 0);
	ck_assert_int_eq(ts_catalog_begin(cat), -EBUSY);
	make_row(&s, 1, "vm1", 1, TS_PH_CREATED);
	put_ok(&s);
	ck_assert_int_eq(ts_catalog_piece_add(cat, s.id, "boot", "/store/boot.1"), 0);
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), 0);
	ck_assert_int_eq(ts_catalog_intent_add(cat, s.id, (const int[]){ 0 }, 1, false, "vm1"), 0);
	ck_assert_int_eq(ts_catalog_remove(cat, "00000000000000000000000000000fff", 5), 0);
	/* reads inside see the transaction's own writes */
	ck_assert_int_eq(ts_catalog_get(cat, s.id, &got), 0);
	ts_snapshot_release(&got);
	ck_assert_uint_eq(count_events(), 1);
	ts_catalog_abort(cat);

	ck_assert_int_eq(ts_catalog_get(cat, s.id, &got), -ENOENT);
	ck_assert_uint_eq(count_rows(), 0);
	ck_assert_uint_eq(count_events(), 0);
	ck_assert_int_eq(ts_catalog_pieces(cat, NULL, &pieces, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert(!ts_catalog_tombstoned(cat, "00000000000000000000000000000fff"));
	ck_assert_int_eq(ts_catalog_intent_clear(cat, s.id), -ENOENT);

	ck_assert_int_eq(ts_catalog_begin(cat), 0);
	put_ok(&s);
	make_row(&s, 2, "vm1", 2, TS_PH_CREATED);
	put_ok(&s);
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), 0);
	ck_assert_int_eq(ts_catalog_commit(cat), 0);
	ck_assert_int_eq(ts_catalog_commit(cat), -EINVAL);
	reopen();
	ck_assert_uint_eq(count_rows(), 2);
	ck_assert_uint_eq(count_events(), 1);
}
END_TEST

/* Fails the last step of a put (the XML), after the row itself was written. */
static const char boom_trigger[] =
	"CREATE TRIGGER boom_insert BEFORE INSERT ON snapshot_xml WHEN NEW.xml = '<boom/>' "
	"BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
	"CREATE TRIGGER boom_update BEFORE UPDATE ON snapshot_xml WHEN NEW.xml = '<boom/>' "
	"BEGIN SELECT RAISE(ABORT, 'injected failure'); END;";

START_TEST(test_failed_put_keeps_previous_row)
{
	struct ts_snapshot a, a2, b;

	make_row(&a, 1, "vm1", 10, TS_PH_TAKEN);
	a.domain_xml = strdup("<domain>old</domain>");
	put_ok(&a);
	raw_sql(boom_trigger);

	a2 = a;
	a2.domain_xml = (char *)"<boom/>";
	strcpy(a2.name, "new name");
	a2.phase = TS_PH_NORMAL;
	a2.n_volumes = 1;
	strcpy(a2.volumes[0], "other");
	ck_assert_int_eq(ts_catalog_put(cat, &a2), -EIO);
	assert_get_same(&a);

	/* Inside an explicit transaction: only the failing call is undone. */
	ck_assert_int_eq(ts_catalog_begin(cat), 0);
	make_row(&b, 2, "vm1", 20, TS_PH_CREATED);
	put_ok(&b);
	ck_assert_int_eq(ts_catalog_put(cat, &a2), -EIO);
	assert_get_same(&a);
	assert_get_same(&b);
	/* a new row failing the same way leaves no trace */
	make_row(&a2, 3, "vm1", 30, TS_PH_CREATED);
	a2.domain_xml = (char *)"<boom/>";
	ck_assert_int_eq(ts_catalog_put(cat, &a2), -EIO);
	ck_assert_int_eq(ts_catalog_get(cat, a2.id, &b), -ENOENT);
	make_row(&b, 2, "vm1", 20, TS_PH_CREATED);
	ck_assert_int_eq(ts_catalog_commit(cat), 0);
	reopen();
	assert_get_same(&a);
	assert_get_same(&b);
	ck_assert_uint_eq(count_rows(), 2);
	free(a.domain_xml);
}
END_TEST

START_TEST(test_remove_tombstones_and_pieces)
{
	static const char gone[] = "000000000000000000000000000000aa";
	char (*ids)[TS_SNAP_ID_LEN + 1];
	struct ts_catalog_piece *p;
	struct ts_snapshot s, keep, got;
	size_t n;

	make_row(&s, 1, "vm1", 1, TS_PH_NORMAL);
	make_row(&keep, 2, "vm1", 2, TS_PH_NORMAL);
	put_ok(&s);
	put_ok(&keep);
	ck_assert_int_eq(ts_catalog_piece_add(cat, s.id, "boot", "/store/vm1/boot@1"), 0);
	ck_assert_int_eq(ts_catalog_piece_add(cat, s.id, "data", "/store/vm1/data@1"), 0);
	ck_assert_int_eq(ts_catalog_piece_add(cat, s.id, "data", "/store/vm1/data@1b"), 0);
	ck_assert_int_eq(ts_catalog_piece_add(cat, keep.id, "boot", "/store/vm1/boot@2"), 0);
	ck_assert_int_eq(ts_catalog_piece_add(cat, gone, "boot", "/x"), -ENOENT);
	ck_assert_int_eq(ts_catalog_pieces(cat, s.id, &p, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(p[0].volume, "boot");
	ck_assert_str_eq(p[1].volume, "data");
	ck_assert_str_eq(p[1].path, "/store/vm1/data@1b");
	ck_assert_str_eq(p[1].id, s.id);
	free(p);
	ck_assert_int_eq(ts_catalog_piece_remove(cat, keep.id, "data"), -ENOENT);
	/* put keeps the pieces */
	put_ok(&s);

	ck_assert(!ts_catalog_tombstoned(cat, s.id));
	ck_assert_int_eq(ts_catalog_remove(cat, s.id, 1000), 0);
	ck_assert_int_eq(ts_catalog_get(cat, s.id, &got), -ENOENT);
	ck_assert(ts_catalog_tombstoned(cat, s.id));
	ck_assert_int_eq(ts_catalog_pieces(cat, s.id, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(ts_catalog_pieces(cat, NULL, &p, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].id, keep.id);
	free(p);
	/* a deleted snapshot does not come back */
	ck_assert_int_eq(ts_catalog_put(cat, &s), -ESTALE);
	ck_assert_int_eq(ts_catalog_get(cat, s.id, &got), -ENOENT);
	/* adopting a deletion of a row never seen */
	ck_assert_int_eq(ts_catalog_remove(cat, gone, 3000), 0);
	ck_assert_int_eq(ts_catalog_remove(cat, gone, 2000), 0);   /* keeps 3000 */
	ck_assert_int_eq(ts_catalog_tombstones(cat, &ids, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ids[0], s.id);
	ck_assert_str_eq(ids[1], gone);
	free(ids);
	ck_assert_int_eq(ts_catalog_prune_tombstones(cat, 2500), 0);
	ck_assert(!ts_catalog_tombstoned(cat, s.id));
	ck_assert(ts_catalog_tombstoned(cat, gone));
	ck_assert_int_eq(ts_catalog_prune_tombstones(cat, 3001), 0);
	ck_assert_int_eq(ts_catalog_tombstones(cat, &ids, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ids);

	ck_assert_int_eq(ts_catalog_piece_remove(cat, keep.id, "boot"), 0);
	ck_assert_int_eq(ts_catalog_piece_remove(cat, keep.id, "boot"), -ENOENT);
	ck_assert_int_eq(ts_catalog_pieces(cat, NULL, &p, &n), 0);
	ck_assert_uint_eq(n, 0);
	assert_get_same(&keep);
}
END_TEST

START_TEST(test_events_seq_and_paging)
{
	struct ts_event e, *ev;
	int64_t last = 0, seqs[25];
	size_t n, total = 0;

	for (int i = 0; i < 25; i++) {
		memset(&e, 0, sizeof(e));
		e.time_ms = 1000 + i;
		snprintf(e.kind, sizeof(e.kind), "%s", i % 2 ? "created" : "aborted");
		if (i % 3 == 0)
			make_id(e.snapshot, (unsigned)i);
		snprintf(e.vm, sizeof(e.vm), "%s", i % 4 ? "vm1" : "");
		snprintf(e.reason, sizeof(e.reason), "%s", i % 2 ? "" : "peer_lost");
		snprintf(e.message, sizeof(e.message), "event %d\nline two", i);
		ck_assert_int_eq(ts_catalog_event_add(cat, &e), 0);
		ck_assert(e.seq > last);
		seqs[i] = last = e.seq;
	}
	last = 0;
	for (int page = 0; page < 3; page++) {
		ck_assert_int_eq(ts_catalog_events(cat, last, 10, &ev, &n), 0);
		ck_assert_uint_eq(n, page < 2 ? 10 : 5);
		for (size_t j = 0; j < n; j++) {
			int i = (int)(total + j);
			char msg[64];

			ck_assert(ev[j].seq == seqs[i]);
			ck_assert(ev[j].time_ms == 1000 + i);
			ck_assert_str_eq(ev[j].kind, i % 2 ? "created" : "aborted");
			ck_assert_str_eq(ev[j].reason, i % 2 ? "" : "peer_lost");
			ck_assert_str_eq(ev[j].vm, i % 4 ? "vm1" : "");
			ck_assert_uint_eq(strlen(ev[j].snapshot), i % 3 ? 0 : TS_SNAP_ID_LEN);
			snprintf(msg, sizeof(msg), "event %d\nline two", i);
			ck_assert_str_eq(ev[j].message, msg);
		}
		total += n;
		last = ev[n - 1].seq;
		free(ev);
	}
	ck_assert_int_eq(ts_catalog_events(cat, last, 10, &ev, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ev);
	ck_assert_uint_eq(count_events(), 25);
	/* seq is never reused, also after a reopen */
	reopen();
	memset(&e, 0, sizeof(e));
	strcpy(e.kind, "deleted");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), 0);
	ck_assert(e.seq > seqs[24]);
}
END_TEST

START_TEST(test_events_invalid)
{
	struct ts_event good = { .time_ms = 5, .kind = "normal", .vm = "vm1", .reason = "" };
	struct ts_event e;

	strcpy(good.message, "fine");
	e = good;
	e.kind[0] = '\0';
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	e = good;
	strcpy(e.kind, "Normal");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	e = good;
	strcpy(e.reason, "peer lost");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	e = good;
	strcpy(e.snapshot, "not-an-id");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	e = good;
	strcpy(e.vm, "../vm");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	e = good;
	strcpy(e.message, "bad \xc3\x28 utf8");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	e = good;
	strcpy(e.message, "escape \x1b[2J");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	e = good;
	memset(e.message, 'm', sizeof(e.message));      /* unterminated */
	e.seq = -7;
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), -EINVAL);
	ck_assert(e.seq == -7);         /* untouched on failure */
	ck_assert_uint_eq(count_events(), 0);
	e = good;
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), 0);
	ck_assert_uint_eq(count_events(), 1);
}
END_TEST

START_TEST(test_intents)
{
	static const char id1[] = "00000000000000000000000000000001";
	static const char id2[] = "00000000000000000000000000000002";
	const int minors[3] = { 7, 0, 1048575 };
	int many[TS_SNAP_MAX_VOLUMES + 1];
	struct ts_catalog_intent *it;
	struct ts_snapshot s;
	size_t n;

	ck_assert_int_eq(ts_catalog_intents(cat, &it, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(it);
	ck_assert_int_eq(ts_catalog_intent_add(cat, id2, minors, 3, true, "vm2"), 0);
	ck_assert_int_eq(ts_catalog_intent_add(cat, id1, NULL, 0, false, "vm1"), 0);
	ck_assert_int_eq(ts_catalog_intents(cat, &it, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(it[0].id, id1);
	ck_assert_str_eq(it[0].vm, "vm1");
	ck_assert(!it[0].fsfrozen);
	ck_assert_uint_eq(it[0].n_minors, 0);
	ck_assert_str_eq(it[1].id, id2);
	ck_assert_str_eq(it[1].vm, "vm2");
	ck_assert(it[1].fsfrozen);
	ck_assert_uint_eq(it[1].n_minors, 3);
	ck_assert_int_eq(it[1].minors[0], 7);
	ck_assert_int_eq(it[1].minors[1], 0);
	ck_assert_int_eq(it[1].minors[2], 1048575);
	free(it);

	/* replace: same id, other minors */
	ck_assert_int_eq(ts_catalog_intent_add(cat, id2, (const int[]){ 3 }, 1, false, "vm2"), 0);
	ck_assert_int_eq(ts_catalog_intents(cat, &it, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(it[1].n_minors, 1);
	ck_assert_int_eq(it[1].minors[0], 3);
	ck_assert(!it[1].fsfrozen);
	free(it);

	/* an intent outlives the snapshot row: I/O must still be resumed */
	make_row(&s, 1, "vm1", 1, TS_PH_FROZEN);
	put_ok(&s);
	ck_assert_int_eq(ts_catalog_remove(cat, id1, 1), 0);
	reopen();
	ck_assert_int_eq(ts_catalog_intents(cat, &it, &n), 0);
	ck_assert_uint_eq(n, 2);
	free(it);

	for (int i = 0; i <= TS_SNAP_MAX_VOLUMES; i++)
		many[i] = i;
	ck_assert_int_eq(ts_catalog_intent_add(cat, id1, many, TS_SNAP_MAX_VOLUMES + 1, false,
					       "vm1"), -EINVAL);
	ck_assert_int_eq(ts_catalog_intent_add(cat, id1, (const int[]){ -1 }, 1, false, "vm1"),
			 -EINVAL);
	ck_assert_int_eq(ts_catalog_intent_add(cat, id1, (const int[]){ 1 << 20 }, 1, false,
					       "vm1"), -EINVAL);
	ck_assert_int_eq(ts_catalog_intent_add(cat, id1, (const int[]){ 4, 4 }, 2, false, "vm1"),
			 -EINVAL);
	ck_assert_int_eq(ts_catalog_intent_add(cat, "nope", many, 1, false, "vm1"), -EINVAL);
	ck_assert_int_eq(ts_catalog_intent_add(cat, id1, many, 1, false, "vm 1"), -EINVAL);

	ck_assert_int_eq(ts_catalog_intent_clear(cat, id1), 0);
	ck_assert_int_eq(ts_catalog_intent_clear(cat, id1), -ENOENT);
	ck_assert_int_eq(ts_catalog_intent_clear(cat, id2), 0);
	ck_assert_int_eq(ts_catalog_intent_clear(cat, "x"), -EINVAL);
	ck_assert_int_eq(ts_catalog_intents(cat, &it, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_reopen_keeps_everything)
{
	struct ts_event e = { .time_ms = 42, .kind = "normal", .vm = "vm1" };
	char (*ids)[TS_SNAP_ID_LEN + 1];
	struct ts_snapshot rows[3], *list;
	struct ts_catalog_intent *it;
	struct ts_catalog_piece *p;
	struct ts_event *ev;
	size_t n;

	for (unsigned i = 0; i < 3; i++) {
		make_row(&rows[i], i + 1, "vm1", i, (enum ts_snap_phase)i);
		rows[i].domain_xml = i == 1 ? NULL : strdup("<domain><name>vm1</name></domain>");
		put_ok(&rows[i]);
	}
	ck_assert_int_eq(ts_catalog_piece_add(cat, rows[0].id, "boot", "/s/b"), 0);
	strcpy(e.snapshot, rows[0].id);
	strcpy(e.message, "snapshot is normal");
	ck_assert_int_eq(ts_catalog_event_add(cat, &e), 0);
	ck_assert_int_eq(ts_catalog_intent_add(cat, rows[2].id, (const int[]){ 2, 9 }, 2, true,
					       "vm1"), 0);
	ck_assert_int_eq(ts_catalog_remove(cat, "0000000000000000000000000000dead", 77), 0);

	reopen();
	for (unsigned i = 0; i < 3; i++) {
		assert_get_same(&rows[i]);
		free(rows[i].domain_xml);
	}
	ck_assert_int_eq(ts_catalog_list(cat, "vm1", -1, &list, &n), 0);
	ck_assert_uint_eq(n, 3);
	ts_catalog_rows_free(list, n);
	ck_assert_int_eq(ts_catalog_pieces(cat, NULL, &p, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].path, "/s/b");
	free(p);
	ck_assert_int_eq(ts_catalog_events(cat, 0, 0, &ev, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(ev[0].seq == e.seq);
	ck_assert_str_eq(ev[0].message, "snapshot is normal");
	ck_assert_str_eq(ev[0].snapshot, rows[0].id);
	free(ev);
	ck_assert_int_eq(ts_catalog_intents(cat, &it, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(it[0].fsfrozen);
	ck_assert_uint_eq(it[0].n_minors, 2);
	ck_assert_int_eq(it[0].minors[1], 9);
	free(it);
	ck_assert_int_eq(ts_catalog_tombstones(cat, &ids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ids[0], "0000000000000000000000000000dead");
	free(ids);
}
END_TEST

static void expect_rejected(const struct ts_snapshot *s, const char *what)
{
	char (*ids)[TS_SNAP_ID_LEN + 1];
	size_t n;

	ck_assert_msg(ts_catalog_put(cat, s) == -EINVAL, "%s accepted", what);
	ck_assert_msg(count_rows() == 0, "%s wrote a row", what);
	ck_assert_int_eq(ts_catalog_tombstones(cat, &ids, &n), 0);
	ck_assert_uint_eq(n, 0);
}

START_TEST(test_invalid_rows_rejected)
{
	static const char *const bad_ids[] = {
		"", "0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdeg", "../../../../etc/passwd0000000000",
		"'; DROP TABLE snapshots; --00000",
	};
	static const char *const bad_volumes[] = {
		"", "../boot", "a/b", ".hidden", "-rf", "vol ume", "vol'", "v\xc3\xa9",
		"0123456789012345678901234567890123456789012345678901234567890123",
	};
	struct ts_snapshot good, s;
	struct ts_catalog_piece *p;
	char path[TS_CATALOG_PATH_MAX + 1];
	size_t n;

	make_row(&good, 1, "vm1", 1, TS_PH_CREATED);
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		s = good;
		strcpy(s.id, bad_ids[i]);
		expect_rejected(&s, bad_ids[i]);
		ck_assert_int_eq(ts_catalog_remove(cat, bad_ids[i], 1), -EINVAL);
		ck_assert(!ts_catalog_tombstoned(cat, bad_ids[i]));
	}
	for (size_t i = 0; i < sizeof(bad_volumes) / sizeof(bad_volumes[0]); i++) {
		s = good;
		snprintf(s.volumes[1], sizeof(s.volumes[1]), "%s", bad_volumes[i]);
		if (strlen(bad_volumes[i]) >= sizeof(s.volumes[1]))
			memset(s.volumes[1], 'v', sizeof(s.volumes[1]));    /* unterminated */
		expect_rejected(&s, bad_volumes[i]);
	}
	s = good;
	strcpy(s.vm, "vm/1");
	expect_rejected(&s, "vm name");
	s = good;
	strcpy(s.volumes[1], "boot");
	expect_rejected(&s, "duplicate volume");
	s = good;
	s.n_volumes = TS_SNAP_MAX_VOLUMES + 1;
	expect_rejected(&s, "17 volumes");
	s = good;
	s.phase = TS_PH__COUNT;
	expect_rejected(&s, "phase");
	s = good;
	s.phase = (enum ts_snap_phase)-1;
	expect_rejected(&s, "negative phase");
	s = good;
	s.consistency_achieved = TS_CONS_AUTO;
	expect_rejected(&s, "achieved auto");
	s = good;
	s.consistency_requested = (enum ts_consistency)3;
	expect_rejected(&s, "requested 3");
	s = good;
	strcpy(s.name, "tab\tname");
	expect_rejected(&s, "control in name");
	s = good;
	strcpy(s.name, "\xed\xa0\x80");
	expect_rejected(&s, "surrogate in name");
	s = good;
	memset(s.name, 'n', sizeof(s.name));
	expect_rejected(&s, "unterminated name");
	s = good;
	strcpy(s.description, "cr\r");
	expect_rejected(&s, "CR in description");
	s = good;
	s.domain_xml = (char *)"<domain>\xc0\xaf</domain>";
	expect_rejected(&s, "overlong in XML");
	s = good;
	s.domain_xml = (char *)"<domain>\x01</domain>";
	expect_rejected(&s, "control in XML");
	s = good;
	s.domain_xml = (char *)"";
	expect_rejected(&s, "empty XML");

	/* pieces and lookups validate too */
	put_ok(&good);
	ck_assert_int_eq(ts_catalog_piece_add(cat, good.id, "../boot", "/p"), -EINVAL);
	ck_assert_int_eq(ts_catalog_piece_add(cat, good.id, "boot", ""), -EINVAL);
	ck_assert_int_eq(ts_catalog_piece_add(cat, good.id, "boot", "/p\n"), -EINVAL);
	ck_assert_int_eq(ts_catalog_piece_add(cat, good.id, "boot", "/p\xff"), -EINVAL);
	memset(path, 'p', sizeof(path));
	path[TS_CATALOG_PATH_MAX] = '\0';
	ck_assert_int_eq(ts_catalog_piece_add(cat, good.id, "boot", path), -EINVAL);
	path[TS_CATALOG_PATH_MAX - 1] = '\0';
	ck_assert_int_eq(ts_catalog_piece_add(cat, good.id, "boot", path), 0);
	ck_assert_int_eq(ts_catalog_pieces(cat, "BAD", &p, &n), -EINVAL);
	ck_assert_int_eq(ts_catalog_pieces(cat, good.id, &p, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(strlen(p[0].path), TS_CATALOG_PATH_MAX - 1);
	free(p);
	ck_assert_int_eq(ts_catalog_piece_remove(cat, good.id, "a/b"), -EINVAL);
	ck_assert_int_eq(ts_catalog_piece_remove(cat, "x", "boot"), -EINVAL);
	ck_assert(!ts_catalog_tombstoned(cat, "x"));
}
END_TEST

START_TEST(test_hostile_text_roundtrip)
{
	static const char *const names[] = {
		"'; DROP TABLE snapshots; --",
		"\"); DELETE FROM pieces; --",
		"Robert'); DROP TABLE events;--",
		"../../../etc/passwd",
		"a/b\\c/../d",
		"%s%s%n%x",
		"?1 ?2 :name @x $y",
		("\xe2\x80\xae" "gnp.exe"),     /* U+202E RLO is a format char, not a control */
		"caf\xc3\xa9 \xf0\x9f\x98\x80",
	};
	struct ts_snapshot s, got;
	struct ts_catalog_piece *p;
	struct ts_event e = { .kind = "created" }, *ev;
	size_t n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		make_row(&s, (unsigned)i + 1, "vm1", (int64_t)i, TS_PH_NORMAL);
		strcpy(s.name, names[i]);
		snprintf(s.description, sizeof(s.description), "%s\n\t'\"\\%s", names[i],
			 names[(i + 1) % (sizeof(names) / sizeof(names[0]))]);
		put_ok(&s);
		ck_assert_int_eq(ts_catalog_get(cat, s.id, &got), 0);
		ck_assert_mem_eq(got.name, s.name, strlen(s.name) + 1);
		ck_assert_mem_eq(got.description, s.description, strlen(s.description) + 1);
		ts_snapshot_release(&got);
		ck_assert_int_eq(ts_catalog_piece_add(cat, s.id, "boot", names[i]), 0);
		snprintf(e.message, sizeof(e.message), "%s", names[i]);
		ck_assert_int_eq(ts_catalog_event_add(cat, &e), 0);
	}
	/* 1 KiB description of quotes and separators (1023 bytes + NUL) */
	make_row(&s, 100, "vm1", 100, TS_PH_NORMAL);
	for (size_t i = 0; i < TS_SNAP_DESC_MAX - 1; i++)
		s.description[i] = "'\";/\\-%"[i % 7];
	s.description[TS_SNAP_DESC_MAX - 1] = '\0';
	put_ok(&s);
	assert_get_same(&s);

	/* every table is still there and complete */
	ck_assert_uint_eq(count_rows(), sizeof(names) / sizeof(names[0]) + 1);
	ck_assert_int_eq(ts_catalog_pieces(cat, NULL, &p, &n), 0);
	ck_assert_uint_eq(n, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(p[i].path, names[i]);  /* ordered by id = insertion */
	free(p);
	ck_assert_int_eq(ts_catalog_events(cat, 0, 0, &ev, &n), 0);
	ck_assert_uint_eq(n, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(ev[i].message, names[i]);
	free(ev);
}
END_TEST

START_TEST(test_stored_garbage_is_eio)
{
	static const char *const updates[] = {
		"UPDATE snapshots SET volumes = 'boot=1 ../x=2'",
		"UPDATE snapshots SET volumes = 'boot=18446744073709551616'",
		"UPDATE snapshots SET volumes = 'boot=1 '",
		"UPDATE snapshots SET volumes = 'boot=1  data=2'",
		"UPDATE snapshots SET volumes = 'boot='",
		"UPDATE snapshots SET phase = 6",
		"UPDATE snapshots SET consistency_requested = -1",
		"UPDATE snapshots SET name = printf('%.300c', 'n')",
		"UPDATE snapshots SET vm = 'vm' || char(0) || 'x'",
	};
	static const char *const minors[] = {
		"1 x", "1048576", "-1", "1 ", " 1", "1,2", "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
	};
	struct ts_snapshot s, got, *rows;
	size_t n;

	make_row(&s, 1, "vm1", 1, TS_PH_NORMAL);
	s.volume_bytes[0] = UINT64_MAX;
	put_ok(&s);
	raw_sql("CREATE TABLE saved AS SELECT * FROM snapshots");
	for (size_t i = 0; i < sizeof(updates) / sizeof(updates[0]); i++) {
		raw_sql(updates[i]);
		ck_assert_msg(ts_catalog_get(cat, s.id, &got) == -EIO, "%s", updates[i]);
		ck_assert_ptr_null(got.domain_xml);
		ck_assert_int_eq(ts_catalog_list(cat, NULL, -1, &rows, &n), -EIO);
		ck_assert_ptr_null(rows);
		if (strstr(updates[i], "phase")) {     /* the key walk reads only id and phase */
			struct ts_catalog_cursor cur = TS_CATALOG_CURSOR_START;
			struct ts_catalog_key keys[2];
			bool more;

			ck_assert_int_eq(ts_catalog_keys_page(cat, -1, &cur, 2, keys, &n, &more),
					 -EIO);
		}
		raw_sql("DELETE FROM snapshots; INSERT INTO snapshots SELECT * FROM saved");
		assert_get_same(&s);
	}
	ck_assert_int_eq(ts_catalog_intent_add(cat, s.id, (const int[]){ 1, 2 }, 2, true, "vm1"),
			 0);
	for (size_t i = 0; i < sizeof(minors) / sizeof(minors[0]); i++) {
		struct ts_catalog_intent *it;
		char sql[128];

		snprintf(sql, sizeof(sql), "UPDATE intents SET minors = '%s'", minors[i]);
		raw_sql(sql);
		ck_assert_msg(ts_catalog_intents(cat, &it, &n) == -EIO, "%s", minors[i]);
		ck_assert_ptr_null(it);
	}
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	struct ts_catalog *other = (void *)1;
	char *err = NULL;
	struct ts_snapshot s;

	make_row(&s, 1, "vm1", 1, TS_PH_NORMAL);
	put_ok(&s);
	ts_catalog_close(cat);
	cat = NULL;
	raw_sql("PRAGMA user_version = 2");
	ck_assert_int_eq(ts_catalog_open(tmpdir, &other, &err), -EIO);
	ck_assert_ptr_null(other);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "schema version 2 is newer"), "message: %s", err);
	ck_assert_msg(strstr(err, tmpdir), "message does not name the file: %s", err);
	free(err);
	/* refusing did not change the file */
	raw_sql("PRAGMA user_version = 1");
	open_catalog();
	assert_get_same(&s);
}
END_TEST

START_TEST(test_open_errors)
{
	struct ts_catalog *other = (void *)1;
	char *err = NULL;
	char path[300];
	int fd;

	/* a second handle on the same catalog */
	ck_assert_int_eq(ts_catalog_open(tmpdir, &other, &err), -EBUSY);
	ck_assert_ptr_null(other);
	ck_assert_msg(err && strstr(err, "in use"), "message: %s", err);
	free(err);
	err = NULL;
	/* the state directory is a file */
	snprintf(path, sizeof(path), "%s/plainfile", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/plainfile/sub", tmpdir);
	ck_assert_int_lt(ts_catalog_open(path, &other, &err), 0);
	ck_assert_ptr_null(other);
	ck_assert_msg(err && strstr(err, path), "message: %s", err);
	free(err);
	err = NULL;
	/* not a database */
	snprintf(path, sizeof(path), "%s/junk", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/junk/catalog.db", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "this is not sqlite, just some text padding it out....", 53), 53);
	close(fd);
	snprintf(path, sizeof(path), "%s/junk", tmpdir);
	ck_assert_int_eq(ts_catalog_open(path, &other, &err), -EIO);
	ck_assert_ptr_null(other);
	ck_assert_ptr_nonnull(err);
	free(err);
	rm_tree(path);
	ts_catalog_close(NULL);
}
END_TEST

static void add_db_test(Suite *s, const char *name, ts_test_t fn)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	add_tcase(s, tc, fn);
}

#define TS_ADD_DB_TEST(suite, fn) add_db_test((suite), #fn, (fn))

int main(void)
{
	Suite *s = suite_create("catalog");

	TS_ADD_DB_TEST(s, test_roundtrip_every_field);
	TS_ADD_DB_TEST(s, test_get_missing_and_invalid);
	TS_ADD_DB_TEST(s, test_list_filters_and_order);
	TS_ADD_DB_TEST(s, test_list_pages);
	TS_ADD_DB_TEST(s, test_keys_pages);
	TS_ADD_DB_TEST(s, test_in_flight_count);
	TS_ADD_DB_TEST(s, test_transaction_commit_and_abort);
	TS_ADD_DB_TEST(s, test_failed_put_keeps_previous_row);
	TS_ADD_DB_TEST(s, test_remove_tombstones_and_pieces);
	TS_ADD_DB_TEST(s, test_events_seq_and_paging);
	TS_ADD_DB_TEST(s, test_events_invalid);
	TS_ADD_DB_TEST(s, test_intents);
	TS_ADD_DB_TEST(s, test_reopen_keeps_everything);
	TS_ADD_DB_TEST(s, test_invalid_rows_rejected);
	TS_ADD_DB_TEST(s, test_hostile_text_roundtrip);
	TS_ADD_DB_TEST(s, test_stored_garbage_is_eio);
	TS_ADD_DB_TEST(s, test_newer_schema_refused);
	TS_ADD_DB_TEST(s, test_open_errors);
	return ts_run_suite(s);
}
