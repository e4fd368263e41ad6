/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of drbd_model: every events2 fixture in TS_FIXTURE_DIR is replayed
 * line by line with the expected state checked after the lines that matter,
 * then merge/destroy/reset/diff/8.4 rules, limits, and hostile input (garbage,
 * truncation, huge lines, invalid UTF-8, random bytes): a rejected line must
 * leave the model byte-for-byte as it was.
 */
#include "config.h"
#include "core/drbd_model.h"
#include "check_common.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TS_FIXTURE_DIR
#error "TS_FIXTURE_DIR must name the directory holding the events2 fixtures"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PCT_EPSILON 1e-9

/* ---- state snapshots: "unchanged" means byte-for-byte equal -------------------- */

struct snapshot {
	size_t len;
	unsigned char *bytes;
};

static struct snapshot take_snapshot(const struct ts_drbd_model *m)
{
	size_t n = ts_drbd_model_count(m);
	bool done = ts_drbd_model_dump_complete(m);
	struct snapshot s;
	unsigned char *p;

	s.len = sizeof(n) + sizeof(done) + n * sizeof(struct ts_drbd_resource);
	s.bytes = p = malloc(s.len);
	ck_assert_ptr_nonnull(s.bytes);
	memcpy(p, &n, sizeof(n));
	p += sizeof(n);
	memcpy(p, &done, sizeof(done));
	p += sizeof(done);
	for (size_t i = 0; i < n; i++, p += sizeof(struct ts_drbd_resource))
		memcpy(p, ts_drbd_model_at(m, i), sizeof(struct ts_drbd_resource));
	return s;
}

static bool snapshot_equal(const struct snapshot *a, const struct snapshot *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static void free_snapshot(struct snapshot *s)
{
	free(s->bytes);
	s->bytes = NULL;
}

/* Apply @line, expect @want, and for an error that nothing changed. */
static void expect_rc(struct ts_drbd_model *m, const char *line, int want)
{
	struct snapshot before = take_snapshot(m), after;
	int rc = ts_drbd_model_apply_line(m, line);

	ck_assert_msg(rc == want, "rc %d, want %d for line: %.200s", rc, want, line);
	after = take_snapshot(m);
	if (rc < 0)
		ck_assert_msg(snapshot_equal(&before, &after),
			      "rejected line changed the model: %.200s", line);
	free_snapshot(&before);
	free_snapshot(&after);
}

static void apply_ok(struct ts_drbd_model *m, const char *line)
{
	expect_rc(m, line, TS_E2_APPLIED);
}

/* Apply a line that may be anything; it must not fail half-way. */
static int apply_any(struct ts_drbd_model *m, const char *line)
{
	struct snapshot before = take_snapshot(m), after;
	int rc = ts_drbd_model_apply_line(m, line);

	ck_assert_msg(rc == TS_E2_APPLIED || rc == TS_E2_IGNORED || rc == TS_E2_DUMP_DONE ||
		      rc == -EINVAL || rc == -ENOSPC, "unexpected rc %d", rc);
	after = take_snapshot(m);
	if (rc < 0)
		ck_assert_msg(snapshot_equal(&before, &after), "rejected line changed the model");
	free_snapshot(&before);
	free_snapshot(&after);
	return rc;
}

/* ---- lookups that fail the test when the object is missing --------------------- */

static const struct ts_drbd_resource *res_of(const struct ts_drbd_model *m, const char *name)
{
	const struct ts_drbd_resource *r = ts_drbd_model_find(m, name);

	ck_assert_msg(r != NULL, "resource %s missing", name);
	return r;
}

static const struct ts_drbd_device *dev_of(const struct ts_drbd_resource *r, int volume)
{
	for (size_t i = 0; i < r->n_devices; i++)
		if (r->devices[i].volume == volume)
			return &r->devices[i];
	ck_abort_msg("%s: device volume %d missing", r->name, volume);
	return NULL;
}

static const struct ts_drbd_connection *conn_of(const struct ts_drbd_resource *r, int peer)
{
	for (size_t i = 0; i < r->n_connections; i++)
		if (r->connections[i].peer_node_id == peer)
			return &r->connections[i];
	ck_abort_msg("%s: connection to node %d missing", r->name, peer);
	return NULL;
}

static const struct ts_drbd_peer_device *pd_of(const struct ts_drbd_resource *r, int peer,
					       int volume)
{
	for (size_t i = 0; i < r->n_peer_devices; i++) {
		const struct ts_drbd_peer_device *pd = &r->peer_devices[i];

		if (pd->peer_node_id == peer && pd->volume == volume)
			return pd;
	}
	ck_abort_msg("%s: peer device %d/%d missing", r->name, peer, volume);
	return NULL;
}

static void assert_pct(double got, double want)
{
	ck_assert_msg(fabs(got - want) < PCT_EPSILON, "percent %f, want %f", got, want);
}

static void assert_resyncing(const struct ts_drbd_resource *r, bool want, double want_pct)
{
	double pct = -2;

	ck_assert_int_eq(ts_drbd_resource_resyncing(r, &pct), want);
	if (want)
		assert_pct(pct, want_pct);
}

/* ---- fixtures --------------------------------------------------------------- */

struct fixture {
	const char *name;
	char **lines;        /* lines[i] is file line i + 1, newline kept */
	size_t n_lines;
	size_t fed;          /* file lines applied so far */
	struct ts_drbd_model *m;
};

static struct fixture *fx_open(const char *name)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *f;

	ck_assert_ptr_nonnull(fx);
	snprintf(path, sizeof(path), "%s/%s", TS_FIXTURE_DIR, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		fx->lines = realloc(fx->lines, (fx->n_lines + 1) * sizeof(*fx->lines));
		ck_assert_ptr_nonnull(fx->lines);
		fx->lines[fx->n_lines++] = strdup(line);
	}
	free(line);
	fclose(f);
	fx->name = name;
	fx->m = ts_drbd_model_create();
	return fx;
}

/* Feed the file up to and including line @last; every data line must be accepted. */
static int fx_feed_to(struct fixture *fx, size_t last)
{
	int rc = TS_E2_IGNORED;

	ck_assert_msg(last <= fx->n_lines && last > fx->fed, "%s: bad line %zu", fx->name, last);
	for (; fx->fed < last; fx->fed++) {
		const char *line = fx->lines[fx->fed];

		rc = ts_drbd_model_apply_line(fx->m, line);
		ck_assert_msg(rc >= 0, "%s:%zu: rc %d", fx->name, fx->fed + 1, rc);
		if (line[0] == '#')
			ck_assert_int_eq(rc, TS_E2_IGNORED);
	}
	return rc;
}

/* Feed exactly line @n (the next one) and require it to leave the model as it was. */
static void fx_expect_noop(struct fixture *fx, size_t n, int want_rc)
{
	struct snapshot before = take_snapshot(fx->m), after;

	ck_assert_int_eq(fx->fed + 1, n);
	ck_assert_int_eq(fx_feed_to(fx, n), want_rc);
	after = take_snapshot(fx->m);
	ck_assert_msg(snapshot_equal(&before, &after), "%s:%zu changed the model", fx->name, n);
	free_snapshot(&before);
	free_snapshot(&after);
}

static void fx_close(struct fixture *fx)
{
	for (size_t i = 0; i < fx->n_lines; i++)
		free(fx->lines[i]);
	free(fx->lines);
	ts_drbd_model_destroy(fx->m);
	free(fx);
}

START_TEST(fixture_steady_connected)
{
	struct fixture *fx = fx_open("events2-steady-connected.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, 18);
	ck_assert(!ts_drbd_model_dump_complete(fx->m));
	r = res_of(fx->m, "pvc-0a2826c9-7108-11e9-8f74-0026b954ca4c");
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	ck_assert(!r->suspended);
	ck_assert_str_eq(r->suspended_reason, "no");
	ck_assert_uint_eq(r->n_connections, 1);
	ck_assert_str_eq(conn_of(r, 2)->conn_name, "kubelet-b");
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_CONNECTED);
	ck_assert_int_eq(conn_of(r, 2)->peer_role, TS_ROLE_SECONDARY);
	ck_assert_uint_eq(conn_of(r, 2)->ap_in_flight, 0);
	ck_assert_uint_eq(r->n_devices, 1);
	ck_assert_int_eq(dev_of(r, 0)->minor, 1016);
	ck_assert_int_eq(dev_of(r, 0)->disk, TS_DISK_UPTODATE);
	ck_assert_uint_eq(r->n_peer_devices, 1);
	ck_assert_int_eq(pd_of(r, 2, 0)->replication, TS_REPL_ESTABLISHED);
	ck_assert_int_eq(pd_of(r, 2, 0)->peer_disk, TS_DISK_UPTODATE);
	ck_assert(!pd_of(r, 2, 0)->resync_suspended);
	ck_assert(!pd_of(r, 2, 0)->has_done);
	assert_resyncing(r, false, 0);
	ck_assert_int_eq(fx_feed_to(fx, 19), TS_E2_DUMP_DONE);
	ck_assert(ts_drbd_model_dump_complete(fx->m));
	ck_assert_uint_eq(ts_drbd_model_count(fx->m), 1);
	fx_close(fx);
}
END_TEST

START_TEST(fixture_steady_connected_ug9)
{
	struct fixture *fx = fx_open("events2-steady-connected-ug9.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, 14);
	ck_assert(!ts_drbd_model_dump_complete(fx->m));
	r = res_of(fx->m, "r0");
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	ck_assert_uint_eq(r->n_devices, 2);
	ck_assert_int_eq(dev_of(r, 0)->minor, 7);
	ck_assert_int_eq(dev_of(r, 1)->minor, 8);
	ck_assert_int_eq(dev_of(r, 1)->disk, TS_DISK_UPTODATE);
	ck_assert_str_eq(conn_of(r, 1)->conn_name, "remote-host");
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTED);
	ck_assert_uint_eq(r->n_peer_devices, 2);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_ESTABLISHED);
	ck_assert_int_eq(pd_of(r, 1, 1)->peer_disk, TS_DISK_UPTODATE);
	ck_assert_int_eq(fx_feed_to(fx, 15), TS_E2_DUMP_DONE);
	ck_assert(ts_drbd_model_dump_complete(fx->m));
	fx_close(fx);
}
END_TEST

/* The drbd-utils events2-sync scenario; @dump is the line number of its leading `exists -`. */
static void check_sync_scenario(struct fixture *fx, size_t dump)
{
	const struct ts_drbd_resource *r;

	ck_assert_int_eq(fx_feed_to(fx, dump), TS_E2_DUMP_DONE);
	ck_assert(ts_drbd_model_dump_complete(fx->m));
	ck_assert_uint_eq(ts_drbd_model_count(fx->m), 0);
	fx_feed_to(fx, dump + 4);
	r = res_of(fx->m, "some-resource");
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	ck_assert_int_eq(dev_of(r, 0)->minor, 1000);
	ck_assert_int_eq(dev_of(r, 0)->disk, TS_DISK_DISKLESS);
	ck_assert_uint_eq(dev_of(r, 0)->upper_pending, 60);
	ck_assert_uint_eq(dev_of(r, 0)->lower_pending, 70);
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_STANDALONE);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_UNKNOWN);
	ck_assert_uint_eq(conn_of(r, 1)->ap_in_flight, 10);
	ck_assert_uint_eq(conn_of(r, 1)->rs_in_flight, 20);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_OFF);
	ck_assert_int_eq(pd_of(r, 1, 0)->peer_disk, TS_DISK_DUNKNOWN);
	ck_assert_uint_eq(pd_of(r, 1, 0)->pending, 30);
	ck_assert_uint_eq(pd_of(r, 1, 0)->unacked, 40);
	fx_expect_noop(fx, dump + 5, TS_E2_IGNORED); /* create path */
	fx_feed_to(fx, dump + 7);
	ck_assert_int_eq(dev_of(r, 0)->disk, TS_DISK_UPTODATE);
	ck_assert_int_eq(dev_of(r, 0)->upper_pending, 60);
	fx_feed_to(fx, dump + 9);
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTED);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_SECONDARY);
	assert_resyncing(r, false, 0);
	fx_feed_to(fx, dump + 10);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_SYNCSOURCE);
	ck_assert_int_eq(pd_of(r, 1, 0)->peer_disk, TS_DISK_INCONSISTENT);
	ck_assert(pd_of(r, 1, 0)->has_done);
	assert_pct(pd_of(r, 1, 0)->done, 37.5);
	ck_assert_uint_eq(pd_of(r, 1, 0)->out_of_sync, 2500);
	assert_resyncing(r, true, 37.5);
	ck_assert_uint_eq(fx->fed, fx->n_lines);
}

START_TEST(fixture_resync_in_progress)
{
	struct fixture *fx = fx_open("events2-resync-in-progress.txt");

	fx_feed_to(fx, 16);
	ck_assert(!ts_drbd_model_dump_complete(fx->m));
	check_sync_scenario(fx, 17);
	fx_close(fx);
}
END_TEST

START_TEST(fixture_resync_in_progress_drbdutils_test)
{
	struct fixture *fx = fx_open("events2-resync-in-progress-drbdutils-test.txt");

	fx_feed_to(fx, 6);
	check_sync_scenario(fx, 7);
	fx_close(fx);
}
END_TEST

START_TEST(fixture_role_switch_harness)
{
	struct fixture *fx = fx_open("events2-role-switch-harness.txt");
	const struct ts_drbd_resource *r;

	ck_assert_int_eq(fx_feed_to(fx, 18), TS_E2_DUMP_DONE);
	fx_feed_to(fx, 27);
	r = res_of(fx->m, "some-resource");
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTED);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_SECONDARY);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_OFF);
	fx_feed_to(fx, 29);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_ESTABLISHED);
	ck_assert_int_eq(pd_of(r, 1, 0)->peer_disk, TS_DISK_UPTODATE);
	fx_expect_noop(fx, 30, TS_E2_APPLIED); /* only may_promote, which is not modelled */
	fx_feed_to(fx, 31);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_PRIMARY);
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	fx_feed_to(fx, 33);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_SECONDARY);
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	fx_feed_to(fx, 34);
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTED);
	fx_close(fx);
}
END_TEST

/* Lines 19-30 of peer-lost equal lines 18-30 of failover minus one path line. */
static void check_peer_lost_start(const struct ts_drbd_resource *r)
{
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_CONNECTED);
	ck_assert_int_eq(conn_of(r, 2)->peer_role, TS_ROLE_PRIMARY);
	ck_assert_str_eq(conn_of(r, 2)->conn_name, "node2.example.net");
	ck_assert_int_eq(dev_of(r, 1)->disk, TS_DISK_UPTODATE);
	ck_assert_int_eq(dev_of(r, 1)->minor, 1);
	ck_assert_int_eq(pd_of(r, 2, 1)->replication, TS_REPL_ESTABLISHED);
}

START_TEST(fixture_role_switch_failover)
{
	struct fixture *fx = fx_open("events2-role-switch-failover.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, 21);
	ck_assert(!ts_drbd_model_dump_complete(fx->m));
	r = res_of(fx->m, "pgsql");
	check_peer_lost_start(r);
	ck_assert_int_eq(fx_feed_to(fx, 22), TS_E2_DUMP_DONE);
	fx_feed_to(fx, 24);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_NETWORKFAILURE);
	ck_assert_int_eq(conn_of(r, 2)->peer_role, TS_ROLE_UNKNOWN);
	fx_feed_to(fx, 25);
	ck_assert_int_eq(dev_of(r, 1)->disk, TS_DISK_CONSISTENT);
	fx_feed_to(fx, 26);
	ck_assert_int_eq(pd_of(r, 2, 1)->replication, TS_REPL_OFF);
	ck_assert_int_eq(pd_of(r, 2, 1)->peer_disk, TS_DISK_DUNKNOWN);
	fx_feed_to(fx, 28);
	ck_assert_int_eq(dev_of(r, 1)->disk, TS_DISK_UPTODATE);
	fx_feed_to(fx, 29);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_UNCONNECTED);
	fx_feed_to(fx, 30);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_CONNECTING);
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	fx_feed_to(fx, 31);
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	fx_feed_to(fx, 33);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_CONNECTED);
	ck_assert_int_eq(conn_of(r, 2)->peer_role, TS_ROLE_SECONDARY);
	fx_feed_to(fx, 34);
	ck_assert_int_eq(pd_of(r, 2, 1)->replication, TS_REPL_WFBITMAPS);
	ck_assert_int_eq(pd_of(r, 2, 1)->peer_disk, TS_DISK_OUTDATED);
	assert_resyncing(r, true, -1); /* no done: and nothing out of sync yet */
	fx_expect_noop(fx, 35, TS_E2_IGNORED); /* change path */
	fx_feed_to(fx, 36);
	ck_assert_int_eq(pd_of(r, 2, 1)->replication, TS_REPL_SYNCSOURCE);
	ck_assert_int_eq(pd_of(r, 2, 1)->peer_disk, TS_DISK_INCONSISTENT);
	ck_assert_uint_eq(pd_of(r, 2, 1)->out_of_sync, 40960);
	assert_resyncing(r, true, 0);
	fx_feed_to(fx, 38);
	ck_assert_int_eq(pd_of(r, 2, 1)->replication, TS_REPL_ESTABLISHED);
	ck_assert_int_eq(pd_of(r, 2, 1)->peer_disk, TS_DISK_UPTODATE);
	ck_assert_uint_eq(pd_of(r, 2, 1)->out_of_sync, 0);
	assert_resyncing(r, false, 0);
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	fx_close(fx);
}
END_TEST

START_TEST(fixture_peer_lost)
{
	struct fixture *fx = fx_open("events2-peer-lost.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, 22);
	ck_assert(!ts_drbd_model_dump_complete(fx->m));
	r = res_of(fx->m, "pgsql");
	check_peer_lost_start(r);
	ck_assert_int_eq(fx_feed_to(fx, 23), TS_E2_DUMP_DONE);
	fx_feed_to(fx, 25);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_NETWORKFAILURE);
	ck_assert_int_eq(conn_of(r, 2)->peer_role, TS_ROLE_UNKNOWN);
	fx_feed_to(fx, 26);
	ck_assert_int_eq(dev_of(r, 1)->disk, TS_DISK_CONSISTENT);
	fx_feed_to(fx, 27);
	ck_assert_int_eq(pd_of(r, 2, 1)->replication, TS_REPL_OFF);
	ck_assert_int_eq(pd_of(r, 2, 1)->peer_disk, TS_DISK_DUNKNOWN);
	fx_expect_noop(fx, 28, TS_E2_IGNORED); /* change path */
	fx_feed_to(fx, 30);
	ck_assert_int_eq(dev_of(r, 1)->disk, TS_DISK_UPTODATE);
	fx_feed_to(fx, 31);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_UNCONNECTED);
	fx_feed_to(fx, 32);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_CONNECTING);
	ck_assert_int_eq(conn_of(r, 2)->peer_role, TS_ROLE_UNKNOWN);
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	assert_resyncing(r, false, 0);
	fx_close(fx);
}
END_TEST

START_TEST(fixture_suspended_io)
{
	struct fixture *fx = fx_open("events2-suspended-io.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, 21);
	r = res_of(fx->m, "r0");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	ck_assert(!r->suspended);
	ck_assert_uint_eq(r->n_connections, 2);
	ck_assert_str_eq(conn_of(r, 1)->conn_name, "bob");
	ck_assert_str_eq(conn_of(r, 2)->conn_name, "carol");
	ck_assert_uint_eq(r->n_peer_devices, 2);
	ck_assert_int_eq(fx_feed_to(fx, 22), TS_E2_DUMP_DONE);
	fx_feed_to(fx, 23);
	ck_assert(r->suspended);
	ck_assert_str_eq(r->suspended_reason, "user");
	fx_feed_to(fx, 24);
	ck_assert(!r->suspended);
	ck_assert_str_eq(r->suspended_reason, "no");
	fx_feed_to(fx, 25);
	ck_assert(r->suspended);
	ck_assert_str_eq(r->suspended_reason, "quorum");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	fx_feed_to(fx, 27);
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_NETWORKFAILURE);
	ck_assert_int_eq(conn_of(r, 2)->state, TS_CONN_NETWORKFAILURE);
	ck_assert_int_eq(conn_of(r, 2)->peer_role, TS_ROLE_UNKNOWN);
	fx_feed_to(fx, 30);
	ck_assert_int_eq(dev_of(r, 0)->disk, TS_DISK_UPTODATE);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_OFF);
	ck_assert_int_eq(pd_of(r, 2, 0)->peer_disk, TS_DISK_DUNKNOWN);
	ck_assert(r->suspended);
	fx_close(fx);
}
END_TEST

START_TEST(fixture_helper_call)
{
	struct fixture *fx = fx_open("events2-helper-call.txt");
	const struct ts_drbd_resource *r;

	ck_assert_int_eq(fx_feed_to(fx, 10), TS_E2_DUMP_DONE);
	fx_feed_to(fx, 14);
	r = res_of(fx->m, "some-resource");
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_STANDALONE);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_OFF);
	fx_expect_noop(fx, 15, TS_E2_IGNORED); /* create path */
	fx_expect_noop(fx, 16, TS_E2_IGNORED); /* call helper */
	fx_expect_noop(fx, 17, TS_E2_IGNORED); /* response helper */
	fx_close(fx);
}
END_TEST

START_TEST(fixture_v84)
{
	struct fixture *fx = fx_open("events2-v84-assembled.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, 29);
	ck_assert(!ts_drbd_model_dump_complete(fx->m));
	r = res_of(fx->m, "r0");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	ck_assert_str_eq(conn_of(r, 0)->conn_name, "peer");
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_CONNECTED);
	ck_assert_int_eq(dev_of(r, 0)->minor, 0);
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_ESTABLISHED);
	ck_assert_int_eq(fx_feed_to(fx, 30), TS_E2_DUMP_DONE);
	fx_feed_to(fx, 31);
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_NETWORKFAILURE);
	fx_feed_to(fx, 32);
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_OFF);
	ck_assert_int_eq(pd_of(r, 0, 0)->peer_disk, TS_DISK_DUNKNOWN);
	fx_feed_to(fx, 33);
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_UNCONNECTED);
	fx_feed_to(fx, 34);
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_CONNECTING);
	fx_feed_to(fx, 35);
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_CONNECTED);
	fx_feed_to(fx, 36);
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_SYNCSOURCE);
	ck_assert_uint_eq(pd_of(r, 0, 0)->out_of_sync, 4096);
	ck_assert(!pd_of(r, 0, 0)->has_done);
	assert_resyncing(r, true, 0); /* estimated: all 4096 KiB still to go */
	fx_feed_to(fx, 37);
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_ESTABLISHED);
	ck_assert_int_eq(pd_of(r, 0, 0)->peer_disk, TS_DISK_UPTODATE);
	assert_resyncing(r, false, 0);
	ck_assert_uint_eq(r->n_connections, 1);
	ck_assert_uint_eq(r->n_peer_devices, 1);
	fx_close(fx);
}
END_TEST

/* Fixtures that have a scenario test above; a new fixture must be added here. */
static const char *const covered_fixtures[] = {
	"events2-steady-connected.txt", "events2-steady-connected-ug9.txt",
	"events2-resync-in-progress.txt", "events2-resync-in-progress-drbdutils-test.txt",
	"events2-role-switch-harness.txt", "events2-role-switch-failover.txt",
	"events2-peer-lost.txt", "events2-suspended-io.txt", "events2-helper-call.txt",
	"events2-v84-assembled.txt",
};

static bool is_covered(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(covered_fixtures); i++)
		if (strcmp(covered_fixtures[i], name) == 0)
			return true;
	return false;
}

/* Every line >= 0; dump_complete flips exactly at `exists -`. */
static void replay_whole_fixture(const char *name)
{
	struct fixture *fx = fx_open(name);
	bool saw_dump_end = false;

	for (size_t n = 1; n <= fx->n_lines; n++) {
		int rc;

		ck_assert_int_eq(ts_drbd_model_dump_complete(fx->m), saw_dump_end);
		rc = fx_feed_to(fx, n);
		if (strstr(fx->lines[n - 1], "exists -\n") || rc == TS_E2_DUMP_DONE) {
			ck_assert_int_eq(rc, TS_E2_DUMP_DONE);
			saw_dump_end = true;
		}
	}
	ck_assert_msg(saw_dump_end, "%s has no `exists -`", name);
	ck_assert(ts_drbd_model_dump_complete(fx->m));
	ck_assert_uint_ge(ts_drbd_model_count(fx->m), 1);
	fx_close(fx);
}

START_TEST(every_fixture_replays_and_is_covered)
{
	DIR *dir = opendir(TS_FIXTURE_DIR);
	struct dirent *de;
	size_t seen = 0;

	ck_assert_msg(dir != NULL, "cannot open %s", TS_FIXTURE_DIR);
	while ((de = readdir(dir))) {
		if (fnmatch("events2-*.txt", de->d_name, 0) != 0)
			continue;
		ck_assert_msg(is_covered(de->d_name), "fixture %s has no scenario test",
			      de->d_name);
		replay_whole_fixture(de->d_name);
		seen++;
	}
	closedir(dir);
	ck_assert_uint_eq(seen, ARRAY_SIZE(covered_fixtures));
}
END_TEST

/* ---- semantics ---------------------------------------------------------------- */

#define CONN_R0 "name:r0 peer-node-id:1 conn-name:bob"
#define PD_R0 CONN_R0 " volume:0"

START_TEST(change_merges_only_given_keys)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists resource name:r0 role:Primary suspended:user");
	apply_ok(m, "exists connection " CONN_R0 " connection:Connected role:Secondary "
		    "ap-in-flight:42 rs-in-flight:7");
	apply_ok(m, "exists device name:r0 volume:0 minor:3 disk:UpToDate upper-pending:5");
	apply_ok(m, "exists peer-device " PD_R0 " replication:SyncSource peer-disk:Inconsistent "
		    "done:12.34 out-of-sync:800 pending:2 unacked:1 resync-suspended:user");
	apply_ok(m, "change connection " CONN_R0 " connection:Connecting");
	apply_ok(m, "change resource name:r0 role:Secondary");
	apply_ok(m, "change device name:r0 volume:0 lower-pending:9");
	apply_ok(m, "change peer-device " PD_R0 " out-of-sync:400");
	r = res_of(m, "r0");
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	ck_assert(r->suspended);
	ck_assert_str_eq(r->suspended_reason, "user");
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTING);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_SECONDARY);
	ck_assert_uint_eq(conn_of(r, 1)->ap_in_flight, 42);
	ck_assert_uint_eq(conn_of(r, 1)->rs_in_flight, 7);
	ck_assert_int_eq(dev_of(r, 0)->minor, 3);
	ck_assert_int_eq(dev_of(r, 0)->disk, TS_DISK_UPTODATE);
	ck_assert_uint_eq(dev_of(r, 0)->upper_pending, 5);
	ck_assert_uint_eq(dev_of(r, 0)->lower_pending, 9);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_SYNCSOURCE);
	ck_assert_int_eq(pd_of(r, 1, 0)->peer_disk, TS_DISK_INCONSISTENT);
	assert_pct(pd_of(r, 1, 0)->done, 12.34);
	ck_assert_uint_eq(pd_of(r, 1, 0)->out_of_sync, 400);
	ck_assert_uint_eq(pd_of(r, 1, 0)->pending, 2);
	ck_assert(pd_of(r, 1, 0)->resync_suspended);
	apply_ok(m, "change peer-device " PD_R0 " resync-suspended:no");
	ck_assert(!pd_of(r, 1, 0)->resync_suspended);
	/* exists/create on a known object merges, too */
	apply_ok(m, "create connection " CONN_R0 " role:Primary");
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTING);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_PRIMARY);
	ck_assert_uint_eq(r->n_connections, 1);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(sub_object_creates_resource)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists peer-device name:lonely peer-node-id:3 conn-name:c volume:2 "
		    "replication:Established");
	r = res_of(m, "lonely");
	ck_assert_int_eq(r->role, TS_ROLE_UNKNOWN);
	ck_assert_uint_eq(r->n_peer_devices, 1);
	ck_assert_uint_eq(r->n_connections, 0);
	ck_assert_int_eq(pd_of(r, 3, 2)->replication, TS_REPL_ESTABLISHED);
	apply_ok(m, "create device name:other volume:4");
	ck_assert_int_eq(dev_of(res_of(m, "other"), 4)->minor, -1);
	ck_assert_int_eq(dev_of(res_of(m, "other"), 4)->disk, TS_DISK_UNKNOWN);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(change_or_destroy_of_unknown_object_is_rejected)
{
	static const char *const lines[] = {
		"change resource name:nope role:Primary",
		"change device name:r0 volume:1 disk:Failed",
		"change connection name:r0 peer-node-id:2 conn-name:bob connection:Connected",
		"change connection name:r0 peer-node-id:1 conn-name:alice connection:Connected",
		"change peer-device name:r0 peer-node-id:1 conn-name:bob volume:1 replication:Off",
		"change device name:nope volume:0 disk:Failed",
		"destroy resource name:nope",
		"destroy device name:r0 volume:5",
		"destroy connection name:r0 peer-node-id:3 conn-name:bob",
		"destroy peer-device name:r0 peer-node-id:3 conn-name:bob volume:0",
	};
	struct ts_drbd_model *m = ts_drbd_model_create();

	apply_ok(m, "exists resource name:r0 role:Secondary");
	apply_ok(m, "exists connection " CONN_R0 " connection:StandAlone");
	apply_ok(m, "exists device name:r0 volume:0 minor:0 disk:UpToDate");
	apply_ok(m, "exists peer-device " PD_R0 " replication:Off");
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		expect_rc(m, lines[i], -EINVAL);
	ck_assert_uint_eq(ts_drbd_model_count(m), 1);
	ts_drbd_model_destroy(m);
}
END_TEST

static void populate_two_volumes_two_peers(struct ts_drbd_model *m, const char *res)
{
	char line[256];

	snprintf(line, sizeof(line), "exists resource name:%s role:Primary", res);
	apply_ok(m, line);
	for (int peer = 1; peer <= 2; peer++) {
		snprintf(line, sizeof(line), "exists connection name:%s peer-node-id:%d "
			 "conn-name:n%d connection:Connected", res, peer, peer);
		apply_ok(m, line);
	}
	for (int vol = 0; vol <= 1; vol++) {
		snprintf(line, sizeof(line), "exists device name:%s volume:%d minor:%d "
			 "disk:UpToDate", res, vol, vol);
		apply_ok(m, line);
		for (int peer = 1; peer <= 2; peer++) {
			snprintf(line, sizeof(line), "exists peer-device name:%s peer-node-id:%d "
				 "conn-name:n%d volume:%d replication:Established", res, peer,
				 peer, vol);
			apply_ok(m, line);
		}
	}
}

START_TEST(destroy_removes_objects_and_dependents)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	populate_two_volumes_two_peers(m, "a");
	populate_two_volumes_two_peers(m, "b");
	populate_two_volumes_two_peers(m, "c");
	r = res_of(m, "b");
	ck_assert_uint_eq(r->n_peer_devices, 4);
	apply_ok(m, "destroy peer-device name:b peer-node-id:2 conn-name:n2 volume:1");
	ck_assert_uint_eq(r->n_peer_devices, 3);
	pd_of(r, 2, 0);
	pd_of(r, 1, 1);
	apply_ok(m, "destroy connection name:b peer-node-id:1 conn-name:n1");
	ck_assert_uint_eq(r->n_connections, 1);
	ck_assert_int_eq(r->connections[0].peer_node_id, 2);
	ck_assert_uint_eq(r->n_peer_devices, 1); /* the peer devices of node 1 went with it */
	ck_assert_int_eq(r->peer_devices[0].peer_node_id, 2);
	apply_ok(m, "destroy device name:b volume:0");
	ck_assert_uint_eq(r->n_devices, 1);
	ck_assert_int_eq(r->devices[0].volume, 1);
	ck_assert_uint_eq(r->n_peer_devices, 0);
	apply_ok(m, "destroy resource name:b");
	ck_assert_ptr_null(ts_drbd_model_find(m, "b"));
	ck_assert_uint_eq(ts_drbd_model_count(m), 2);
	ck_assert_str_eq(ts_drbd_model_at(m, 0)->name, "a");
	ck_assert_str_eq(ts_drbd_model_at(m, 1)->name, "c");
	ck_assert_ptr_null(ts_drbd_model_at(m, 2));
	ck_assert_uint_eq(res_of(m, "c")->n_peer_devices, 4);
	/* recreated from scratch: nothing survives from the destroyed object */
	apply_ok(m, "create resource name:b");
	ck_assert_uint_eq(res_of(m, "b")->n_devices, 0);
	ck_assert_int_eq(res_of(m, "b")->role, TS_ROLE_UNKNOWN);
	ck_assert_str_eq(ts_drbd_model_at(m, 2)->name, "b");
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(reset_forgets_everything)
{
	struct ts_drbd_model *m = ts_drbd_model_create();

	populate_two_volumes_two_peers(m, "a");
	expect_rc(m, "exists -", TS_E2_DUMP_DONE);
	ck_assert(ts_drbd_model_dump_complete(m));
	ts_drbd_model_reset(m);
	ck_assert(!ts_drbd_model_dump_complete(m));
	ck_assert_uint_eq(ts_drbd_model_count(m), 0);
	ck_assert_ptr_null(ts_drbd_model_find(m, "a"));
	ck_assert_ptr_null(ts_drbd_model_at(m, 0));
	expect_rc(m, "change resource name:a role:Primary", -EINVAL);
	apply_ok(m, "exists resource name:a role:Secondary");
	ck_assert_uint_eq(res_of(m, "a")->n_devices, 0);
	ck_assert_int_eq(res_of(m, "a")->role, TS_ROLE_SECONDARY);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(diff_form_takes_new_value)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "create resource name:r0 role:UNKNOWN->Secondary suspended:UNKNOWN->no "
		    "may_promote:UNKNOWN->yes");
	r = res_of(m, "r0");
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	ck_assert(!r->suspended);
	ck_assert_str_eq(r->suspended_reason, "no");
	apply_ok(m, "change resource name:r0 role:Secondary->Primary may_promote:yes->no "
		    "promotion_score:10102->10102");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	apply_ok(m, "create connection " CONN_R0 " connection:UNKNOWN->Connecting "
		    "ap-in-flight:UNKNOWN->18446744073709551608");
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTING);
	ck_assert_uint_eq(conn_of(r, 1)->ap_in_flight, UINT64_C(18446744073709551608));
	apply_ok(m, "create peer-device " PD_R0 " replication:UNKNOWN->SyncTarget "
		    "done:UNKNOWN->5.50");
	assert_pct(pd_of(r, 1, 0)->done, 5.5);
	expect_rc(m, "change connection " CONN_R0 " ap-in-flight:1->x", -EINVAL);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(v84_peer_device_minor)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists device name:r0 volume:0 minor:5 disk:UpToDate");
	apply_ok(m, "exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 minor:5 "
		    "replication:Established peer-disk:UpToDate");
	r = res_of(m, "r0");
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_ESTABLISHED);
	ck_assert_int_eq(dev_of(r, 0)->minor, 5); /* the peer device's minor is not a device */
	ck_assert_uint_eq(r->n_devices, 1);
	apply_ok(m, "change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 minor:5 "
		    "replication:Off");
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_OFF);
	expect_rc(m, "change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 minor:x "
		     "replication:Established", -EINVAL);
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_OFF);
	ts_drbd_model_destroy(m);
}
END_TEST

#define PD84 "peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 minor:0 "

START_TEST(v84_progress_estimate)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;
	double pct = 0;

	apply_ok(m, "exists " PD84 "replication:Established out-of-sync:0");
	r = res_of(m, "r0");
	ck_assert(!ts_drbd_resource_resyncing(r, &pct));
	assert_pct(pct, -1);
	apply_ok(m, "change " PD84 "replication:SyncTarget out-of-sync:1000");
	assert_resyncing(r, true, 0);
	apply_ok(m, "change " PD84 "out-of-sync:250");
	assert_resyncing(r, true, 75);
	ck_assert_uint_eq(pd_of(r, 0, 0)->resync_total, 1000);
	/* out-of-sync growing during the resync raises the total */
	apply_ok(m, "change " PD84 "out-of-sync:2000");
	assert_resyncing(r, true, 0);
	apply_ok(m, "change " PD84 "replication:PausedSyncT out-of-sync:500");
	assert_resyncing(r, true, 75);
	ck_assert(ts_drbd_resource_resyncing(r, NULL));
	apply_ok(m, "change " PD84 "replication:Established out-of-sync:0");
	assert_resyncing(r, false, 0);
	ck_assert_uint_eq(pd_of(r, 0, 0)->resync_total, 0);
	/* a new resync starts from its own total, not the old maximum */
	apply_ok(m, "change " PD84 "replication:SyncSource out-of-sync:400");
	assert_resyncing(r, true, 0);
	apply_ok(m, "change " PD84 "out-of-sync:100");
	assert_resyncing(r, true, 75);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(v84_progress_unknown_without_total)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	double pct = 0;

	apply_ok(m, "exists " PD84 "replication:WFBitMapT");
	ck_assert(ts_drbd_resource_resyncing(res_of(m, "r0"), &pct));
	assert_pct(pct, -1);
	/* total appears once the bitmap exchange reports something out of sync */
	apply_ok(m, "change " PD84 "replication:SyncTarget out-of-sync:800");
	apply_ok(m, "change " PD84 "out-of-sync:200");
	assert_resyncing(res_of(m, "r0"), true, 75);
	ts_drbd_model_destroy(m);
}
END_TEST

/* ---- real DRBD 8.4.11 (tests/data/drbd/84-real, captured in the realdrbd guests) --- */

#define REAL84 "84-real/"

/* Feed up to and including the next line that contains @needle. */
static void fx_feed_past(struct fixture *fx, const char *needle)
{
	for (size_t n = fx->fed; n < fx->n_lines; n++) {
		if (strstr(fx->lines[n], needle)) {
			fx_feed_to(fx, n + 1);
			return;
		}
	}
	ck_abort_msg("%s: no line after %zu contains '%s'", fx->name, fx->fed, needle);
}

static const char *const real84_fixtures[] = {
	"events2-now-pm1.txt", "events2-now-pm2.txt", "events2-now-suspended-pm1.txt",
	"events2-now-failover-pm2.txt", "events2-now-resync-pm1.txt",
	"events2-now-resync-pm2.txt", "events2-stream-pm1.txt", "events2-stream-pm2.txt",
	"events2-stream-helper-fail-pm1.txt", "events2-stream-helper-fail-pm2.txt",
	"events2-now-standalone-pm1.txt", "events2-stream-standalone-pm1.txt",
};

START_TEST(v84_real_every_capture_replays)
{
	char name[128];

	for (size_t i = 0; i < ARRAY_SIZE(real84_fixtures); i++) {
		snprintf(name, sizeof(name), REAL84 "%s", real84_fixtures[i]);
		replay_whole_fixture(name);
	}
}
END_TEST

/* The three lab resources, Connected, pm1 Primary: 8.4's fixed peer identity. */
START_TEST(v84_real_steady)
{
	static const char *const names[] = { "vm1-boot", "vm1-data", "vm2-boot" };
	struct fixture *fx = fx_open(REAL84 "events2-now-pm1.txt");

	ck_assert_int_eq(fx_feed_to(fx, fx->n_lines), TS_E2_DUMP_DONE);
	ck_assert_uint_eq(ts_drbd_model_count(fx->m), 3);
	for (int i = 0; i < 3; i++) {
		const struct ts_drbd_resource *r = res_of(fx->m, names[i]);

		ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
		ck_assert(!r->suspended);
		ck_assert_uint_eq(r->n_connections, 1);
		ck_assert_str_eq(conn_of(r, 0)->conn_name, "peer");
		ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_CONNECTED);
		ck_assert_int_eq(conn_of(r, 0)->peer_role, TS_ROLE_SECONDARY);
		ck_assert_int_eq(dev_of(r, 0)->minor, i);
		ck_assert_int_eq(dev_of(r, 0)->disk, TS_DISK_UPTODATE);
		ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_ESTABLISHED);
		ck_assert_int_eq(pd_of(r, 0, 0)->peer_disk, TS_DISK_UPTODATE);
		assert_resyncing(r, false, 0);
	}
	fx_close(fx);
}
END_TEST

/* suspend-io with a write held: suspended:user; the held write is in no counter. */
START_TEST(v84_real_suspended)
{
	struct fixture *fx = fx_open(REAL84 "events2-now-suspended-pm1.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, fx->n_lines);
	r = res_of(fx->m, "vm1-boot");
	ck_assert(r->suspended);
	ck_assert_str_eq(r->suspended_reason, "user");
	ck_assert_uint_eq(dev_of(r, 0)->upper_pending, 0);
	ck_assert_uint_eq(pd_of(r, 0, 0)->pending, 0);
	ck_assert(!res_of(fx->m, "vm1-data")->suspended);
	fx_close(fx);
}
END_TEST

START_TEST(v84_real_failover)
{
	struct fixture *fx = fx_open(REAL84 "events2-now-failover-pm2.txt");
	const struct ts_drbd_resource *r;

	fx_feed_to(fx, fx->n_lines);
	r = res_of(fx->m, "vm2-boot");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	ck_assert_int_eq(conn_of(r, 0)->peer_role, TS_ROLE_SECONDARY);
	r = res_of(fx->m, "vm1-boot");
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	ck_assert_int_eq(conn_of(r, 0)->peer_role, TS_ROLE_PRIMARY);
	fx_close(fx);
}
END_TEST

/* invalidate-remote at 2 MiB/s: no done:, progress estimated from out-of-sync. */
START_TEST(v84_real_resync)
{
	static const char *const files[] = { REAL84 "events2-now-resync-pm1.txt",
					     REAL84 "events2-now-resync-pm2.txt" };
	static const enum ts_drbd_repl want[] = { TS_REPL_SYNCSOURCE, TS_REPL_SYNCTARGET };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct fixture *fx = fx_open(files[i]);
		const struct ts_drbd_resource *r;
		double pct = 0;

		fx_feed_to(fx, fx->n_lines);
		r = res_of(fx->m, "vm1-data");
		ck_assert_int_eq(pd_of(r, 0, 0)->replication, want[i]);
		ck_assert(!pd_of(r, 0, 0)->has_done);
		ck_assert_uint_gt(pd_of(r, 0, 0)->out_of_sync, 0);
		ck_assert(ts_drbd_resource_resyncing(r, &pct));
		ck_assert(!ts_drbd_resource_resyncing(res_of(fx->m, "vm1-boot"), NULL));
		fx_close(fx);
	}
}
END_TEST

/*
 * A resync the before-resync-source helper refused: the connection goes
 * StandAlone and is destroyed, then `connect` creates it again and the resync
 * runs to the end.  One connection throughout.
 */
START_TEST(v84_real_helper_refused_resync)
{
	struct fixture *fx = fx_open(REAL84 "events2-stream-helper-fail-pm1.txt");
	const struct ts_drbd_resource *r;

	fx_feed_past(fx, "exists -");
	r = res_of(fx->m, "vm1-data");
	fx_feed_past(fx, "connection:StandAlone");
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_STANDALONE);
	fx_feed_past(fx, "destroy connection name:vm1-data");
	ck_assert_uint_eq(r->n_connections, 0);
	ck_assert_uint_eq(r->n_peer_devices, 0);
	fx_feed_past(fx, "replication:SyncSource");
	ck_assert_uint_eq(r->n_connections, 1);
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_CONNECTED);
	assert_resyncing(r, true, 0);
	fx_feed_to(fx, fx->n_lines);
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_ESTABLISHED);
	ck_assert_uint_eq(pd_of(r, 0, 0)->out_of_sync, 0);
	assert_resyncing(r, false, 0);
	fx_close(fx);
}
END_TEST

/*
 * An agent that starts while vm2-boot is StandAlone (dump without conn-name),
 * then sees the real `connect` that followed (from the stream of the same
 * moment): one connection, named, Connected, the empty resync over.
 */
START_TEST(v84_real_standalone_then_connect)
{
	struct fixture *fx = fx_open(REAL84 "events2-now-standalone-pm1.txt");
	struct fixture *st = fx_open(REAL84 "events2-stream-standalone-pm1.txt");
	const struct ts_drbd_resource *r;

	ck_assert_int_eq(fx_feed_to(fx, fx->n_lines), TS_E2_DUMP_DONE);
	r = res_of(fx->m, "vm2-boot");
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_STANDALONE);
	ck_assert_str_eq(conn_of(r, 0)->conn_name, "");
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_OFF);
	ck_assert_str_eq(conn_of(res_of(fx->m, "vm1-boot"), 0)->conn_name, "peer");
	fx_feed_past(st, "destroy connection name:vm2-boot");
	for (size_t n = st->fed; n < st->n_lines; n++)
		ck_assert_int_ge(ts_drbd_model_apply_line(fx->m, st->lines[n]), 0);
	ck_assert_uint_eq(r->n_connections, 1);
	ck_assert_uint_eq(r->n_peer_devices, 1);
	ck_assert_str_eq(conn_of(r, 0)->conn_name, "peer");
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_CONNECTED);
	ck_assert_int_eq(pd_of(r, 0, 0)->replication, TS_REPL_ESTABLISHED);
	assert_resyncing(r, false, 0);
	fx_close(st);
	fx_close(fx);
}
END_TEST

/*
 * 8.4 leaves conn-name out while it knows no peer address: `events2 --now` of
 * a StandAlone resource (real line).  A later connect names the connection;
 * it must stay the same one.  DRBD 9 (a real node id) still needs conn-name.
 */
START_TEST(v84_standalone_without_conn_name)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists connection name:vm1-data peer-node-id:0 connection:StandAlone "
		    "role:Unknown congested:no");
	apply_ok(m, "exists peer-device name:vm1-data peer-node-id:0 volume:0 replication:Off "
		    "peer-disk:DUnknown resync-suspended:no received:0 sent:0 out-of-sync:65496 "
		    "pending:0 unacked:0");
	r = res_of(m, "vm1-data");
	ck_assert_str_eq(conn_of(r, 0)->conn_name, "");
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_STANDALONE);
	ck_assert_uint_eq(pd_of(r, 0, 0)->out_of_sync, 65496);
	apply_ok(m, "change connection name:vm1-data peer-node-id:0 conn-name:peer "
		    "connection:Connecting");
	ck_assert_uint_eq(r->n_connections, 1);
	ck_assert_str_eq(conn_of(r, 0)->conn_name, "peer");
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_CONNECTING);
	/* named now: a line without the name still finds it by node id */
	apply_ok(m, "change connection name:vm1-data peer-node-id:0 connection:StandAlone");
	ck_assert_uint_eq(r->n_connections, 1);
	ck_assert_int_eq(conn_of(r, 0)->state, TS_CONN_STANDALONE);
	/* but another name on a named connection is another connection */
	expect_rc(m, "change connection name:vm1-data peer-node-id:0 conn-name:other "
		     "connection:Connected", -EINVAL);
	apply_ok(m, "destroy connection name:vm1-data peer-node-id:0");
	ck_assert_uint_eq(r->n_connections, 0);
	ck_assert_uint_eq(r->n_peer_devices, 0);
	expect_rc(m, "exists connection name:r9 peer-node-id:1 connection:StandAlone", -EINVAL);
	expect_rc(m, "exists peer-device name:r9 peer-node-id:2 volume:0 replication:Off",
		  -EINVAL);
	ck_assert_ptr_null(ts_drbd_model_find(m, "r9"));
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(done_lowest_and_not_stale)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists peer-device name:r0 peer-node-id:1 conn-name:a volume:0 "
		    "replication:SyncSource done:80.00 out-of-sync:10");
	apply_ok(m, "exists peer-device name:r0 peer-node-id:2 conn-name:b volume:0 "
		    "replication:SyncSource done:20.25 out-of-sync:90");
	apply_ok(m, "exists peer-device name:r0 peer-node-id:3 conn-name:c volume:0 "
		    "replication:Established done:1.00");
	r = res_of(m, "r0");
	assert_resyncing(r, true, 20.25);
	apply_ok(m, "change peer-device name:r0 peer-node-id:2 conn-name:b volume:0 "
		    "replication:Established");
	assert_resyncing(r, true, 80);
	apply_ok(m, "change peer-device name:r0 peer-node-id:1 conn-name:a volume:0 "
		    "replication:Established");
	assert_resyncing(r, false, 0);
	/* next resync without a done: yet must not report the old 80 % */
	apply_ok(m, "change peer-device name:r0 peer-node-id:1 conn-name:a volume:0 "
		    "replication:WFBitMapS out-of-sync:0");
	ck_assert(!pd_of(r, 1, 0)->has_done);
	assert_resyncing(r, true, -1);
	apply_ok(m, "change peer-device name:r0 peer-node-id:1 conn-name:a volume:0 "
		    "replication:SyncSource done:3.00");
	assert_resyncing(r, true, 3);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(split_at_first_colon)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists connection name:r0 peer-node-id:1 conn-name:host:7789 "
		    "connection:Connected local:ipv4:1.2.3.4:7789");
	r = res_of(m, "r0");
	ck_assert_str_eq(conn_of(r, 1)->conn_name, "host:7789");
	apply_ok(m, "exists resource name:r0 suspended:user:odd");
	ck_assert_str_eq(r->suspended_reason, "user:odd");
	/* a colon in a value does not turn it into another key */
	apply_ok(m, "change connection name:r0 peer-node-id:1 conn-name:host:7789 "
		    "peer:connection:StandAlone");
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_CONNECTED);
	expect_rc(m, "change connection name:r0 peer-node-id:1 conn-name:host "
		     "connection:StandAlone", -EINVAL);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(u64_counters_and_wrap)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists connection " CONN_R0 " ap-in-flight:18446744073709551608 "
		    "rs-in-flight:18446744073709551615");
	r = res_of(m, "r0");
	ck_assert_uint_eq(conn_of(r, 1)->ap_in_flight, UINT64_C(18446744073709551608));
	ck_assert_uint_eq(conn_of(r, 1)->rs_in_flight, UINT64_MAX);
	expect_rc(m, "change connection " CONN_R0 " ap-in-flight:18446744073709551616", -EINVAL);
	expect_rc(m, "change connection " CONN_R0 " ap-in-flight:-8", -EINVAL);
	expect_rc(m, "change connection " CONN_R0 " ap-in-flight:99999999999999999999999",
		  -EINVAL);
	apply_ok(m, "exists peer-device " PD_R0 " out-of-sync:4294967296 pending:4294967297");
	ck_assert_uint_eq(pd_of(r, 1, 0)->out_of_sync, UINT64_C(4294967296));
	ck_assert_uint_eq(pd_of(r, 1, 0)->pending, UINT64_C(4294967297));
	apply_ok(m, "exists device name:r0 volume:0 upper-pending:18446744073709551615");
	ck_assert_uint_eq(dev_of(r, 0)->upper_pending, UINT64_MAX);
	ck_assert_uint_eq(conn_of(r, 1)->ap_in_flight, UINT64_C(18446744073709551608));
	ts_drbd_model_destroy(m);
}
END_TEST

static void fill_resource_limit_lines(struct ts_drbd_model *m)
{
	char line[256];

	for (int vol = 0; vol < TS_DRBD_MAX_VOLUMES; vol++) {
		snprintf(line, sizeof(line), "exists device name:big volume:%d", vol);
		apply_ok(m, line);
	}
	for (int peer = 0; peer < TS_DRBD_MAX_PEERS; peer++) {
		snprintf(line, sizeof(line), "exists connection name:big peer-node-id:%d "
			 "conn-name:p%d", peer, peer);
		apply_ok(m, line);
		for (int vol = 0; vol < TS_DRBD_MAX_VOLUMES; vol++) {
			snprintf(line, sizeof(line), "exists peer-device name:big peer-node-id:%d "
				 "conn-name:p%d volume:%d", peer, peer, vol);
			apply_ok(m, line);
		}
	}
}

START_TEST(limits_give_enospc)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;
	char line[128];

	fill_resource_limit_lines(m);
	r = res_of(m, "big");
	ck_assert_uint_eq(r->n_devices, TS_DRBD_MAX_VOLUMES);
	ck_assert_uint_eq(r->n_connections, TS_DRBD_MAX_PEERS);
	ck_assert_uint_eq(r->n_peer_devices, TS_DRBD_MAX_VOLUMES * TS_DRBD_MAX_PEERS);
	expect_rc(m, "exists device name:big volume:99", -ENOSPC);
	expect_rc(m, "exists connection name:big peer-node-id:9 conn-name:p9", -ENOSPC);
	expect_rc(m, "exists peer-device name:big peer-node-id:0 conn-name:p0 volume:99", -ENOSPC);
	/* known objects still update */
	apply_ok(m, "change device name:big volume:3 disk:Failed");
	ck_assert_int_eq(dev_of(r, 3)->disk, TS_DISK_FAILED);
	for (int i = 1; i < TS_DRBD_MAX_RESOURCES; i++) {
		snprintf(line, sizeof(line), "exists resource name:res%d role:Secondary", i);
		ck_assert_int_eq(ts_drbd_model_apply_line(m, line), TS_E2_APPLIED);
	}
	ck_assert_uint_eq(ts_drbd_model_count(m), TS_DRBD_MAX_RESOURCES);
	expect_rc(m, "exists resource name:one-too-many", -ENOSPC);
	expect_rc(m, "exists device name:one-too-many volume:0", -ENOSPC);
	expect_rc(m, "exists connection name:one-too-many peer-node-id:1 conn-name:x", -ENOSPC);
	expect_rc(m, "exists peer-device name:one-too-many peer-node-id:1 conn-name:x volume:0",
		  -ENOSPC);
	apply_ok(m, "destroy resource name:res7");
	apply_ok(m, "exists resource name:one-too-many");
	ck_assert_str_eq(ts_drbd_model_at(m, TS_DRBD_MAX_RESOURCES - 1)->name, "one-too-many");
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(resource_name_rules)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	char line[256], name[80];

	memset(name, 'n', 63);
	name[63] = '\0';
	snprintf(line, sizeof(line), "exists resource name:%s role:Primary", name);
	apply_ok(m, line);
	ck_assert_int_eq(res_of(m, name)->role, TS_ROLE_PRIMARY);
	memset(name, 'm', 64);
	name[64] = '\0';
	snprintf(line, sizeof(line), "exists resource name:%s role:Primary", name);
	expect_rc(m, line, -EINVAL);
	expect_rc(m, "exists resource name:a/b role:Primary", -EINVAL);
	expect_rc(m, "exists resource name:a\x01" "b role:Primary", -EINVAL);
	expect_rc(m, "exists resource name:a\tb role:Primary", -EINVAL);
	expect_rc(m, "exists resource name:a\x7f role:Primary", -EINVAL);
	expect_rc(m, "exists resource name: role:Primary", -EINVAL);
	expect_rc(m, "exists connection name:r0 peer-node-id:1 conn-name:x/y", -EINVAL);
	snprintf(line, sizeof(line), "exists connection name:r0 peer-node-id:1 conn-name:%s",
		 name);
	expect_rc(m, line, -EINVAL);
	ck_assert_uint_eq(ts_drbd_model_count(m), 1);
	ts_drbd_model_destroy(m);
}
END_TEST

static const char *const want_role[] = { "Unknown", "Primary", "Secondary" };
static const char *const want_conn[] = {
	"unknown", "StandAlone", "Disconnecting", "Unconnected", "Timeout", "BrokenPipe",
	"NetworkFailure", "ProtocolError", "TearDown", "Connecting", "Connected",
};
static const char *const want_disk[] = {
	"unknown", "Diskless", "Attaching", "Detaching", "Failed", "Negotiating",
	"Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate",
};
static const char *const want_repl[] = {
	"unknown", "Off", "Established", "StartingSyncS", "StartingSyncT", "WFBitMapS",
	"WFBitMapT", "WFSyncUUID", "SyncSource", "SyncTarget", "VerifyS", "VerifyT",
	"PausedSyncS", "PausedSyncT", "Ahead", "Behind",
};

START_TEST(enum_strings_exact_and_round_trip)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;
	char line[256];

	ck_assert_int_eq(ARRAY_SIZE(want_repl), TS_REPL_BEHIND + 1);
	ck_assert_int_eq(ARRAY_SIZE(want_disk), TS_DISK_UPTODATE + 1);
	ck_assert_int_eq(ARRAY_SIZE(want_conn), TS_CONN_CONNECTED + 1);
	for (int v = 0; v < (int)ARRAY_SIZE(want_role); v++)
		ck_assert_str_eq(ts_drbd_role_str((enum ts_drbd_role)v), want_role[v]);
	for (int v = 0; v < (int)ARRAY_SIZE(want_conn); v++)
		ck_assert_str_eq(ts_drbd_conn_str((enum ts_drbd_conn)v), want_conn[v]);
	for (int v = 0; v < (int)ARRAY_SIZE(want_disk); v++)
		ck_assert_str_eq(ts_drbd_disk_str((enum ts_drbd_disk)v), want_disk[v]);
	for (int v = 0; v < (int)ARRAY_SIZE(want_repl); v++)
		ck_assert_str_eq(ts_drbd_repl_str((enum ts_drbd_repl)v), want_repl[v]);
	ck_assert_str_eq(ts_drbd_repl_str((enum ts_drbd_repl)99), "unknown");
	ck_assert_str_eq(ts_drbd_role_str((enum ts_drbd_role)99), "Unknown");
	for (int v = 1; v < (int)ARRAY_SIZE(want_repl); v++) {
		snprintf(line, sizeof(line), "exists peer-device " PD_R0 " replication:%s "
			 "peer-disk:%s", want_repl[v], want_disk[v % ARRAY_SIZE(want_disk)]);
		apply_ok(m, line);
		r = res_of(m, "r0");
		ck_assert_int_eq(pd_of(r, 1, 0)->replication, v);
		ck_assert_int_eq(pd_of(r, 1, 0)->peer_disk, v % (int)ARRAY_SIZE(want_disk));
	}
	for (int v = 1; v < (int)ARRAY_SIZE(want_conn); v++) {
		snprintf(line, sizeof(line), "exists connection " CONN_R0 " connection:%s role:%s",
			 want_conn[v], want_role[v % 3]);
		apply_ok(m, line);
		ck_assert_int_eq(conn_of(res_of(m, "r0"), 1)->state, v);
		ck_assert_int_eq(conn_of(res_of(m, "r0"), 1)->peer_role, v % 3);
	}
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(resync_state_set)
{
	static const enum ts_drbd_repl resync[] = {
		TS_REPL_STARTINGSYNCS, TS_REPL_STARTINGSYNCT, TS_REPL_WFBITMAPS,
		TS_REPL_WFBITMAPT, TS_REPL_WFSYNCUUID, TS_REPL_SYNCSOURCE, TS_REPL_SYNCTARGET,
		TS_REPL_PAUSEDSYNCS, TS_REPL_PAUSEDSYNCT,
	};

	for (int v = 0; v <= TS_REPL_BEHIND; v++) {
		bool want = false;

		for (size_t i = 0; i < ARRAY_SIZE(resync); i++)
			want |= resync[i] == (enum ts_drbd_repl)v;
		ck_assert_msg(ts_drbd_repl_is_resync((enum ts_drbd_repl)v) == want, "%s",
			      want_repl[v]);
	}
}
END_TEST

START_TEST(lenient_unknown_values_and_keys)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "exists resource name:r0 role:Primary future-key:42 write-ordering:flush");
	apply_ok(m, "exists connection " CONN_R0 " connection:Connected role:Secondary tls:yes");
	apply_ok(m, "exists device name:r0 volume:0 disk:UpToDate open:maybe");
	apply_ok(m, "exists peer-device " PD_R0 " replication:Established eta:nan dbdt1:0.24");
	apply_ok(m, "change resource name:r0 role:Overlord");
	apply_ok(m, "change connection " CONN_R0 " connection:Quantum role:primary");
	apply_ok(m, "change device name:r0 volume:0 disk:Melted");
	apply_ok(m, "change peer-device " PD_R0 " replication:Teleporting peer-disk:");
	r = res_of(m, "r0");
	ck_assert_int_eq(r->role, TS_ROLE_UNKNOWN);
	ck_assert_int_eq(conn_of(r, 1)->state, TS_CONN_UNKNOWN);
	ck_assert_int_eq(conn_of(r, 1)->peer_role, TS_ROLE_UNKNOWN); /* case matters */
	ck_assert_int_eq(dev_of(r, 0)->disk, TS_DISK_UNKNOWN);
	ck_assert_int_eq(pd_of(r, 1, 0)->replication, TS_REPL_UNKNOWN);
	ck_assert_int_eq(pd_of(r, 1, 0)->peer_disk, TS_DISK_UNKNOWN);
	apply_ok(m, "change resource name:r0 suspended:user,no-data,fencing,quorum");
	ck_assert(r->suspended);
	ck_assert_str_eq(r->suspended_reason, "user,no-data,fencing,quorum");
	apply_ok(m, "change peer-device " PD_R0 " resync-suspended:dependency,max-parallel");
	ck_assert(pd_of(r, 1, 0)->resync_suspended);
	/* keys of other objects are not read: disk: means nothing on a resource */
	apply_ok(m, "change resource name:r0 disk:x volume:y out-of-sync:z");
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(suspended_reason_truncated_safely)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;
	char line[256], reason[100];

	memset(reason, 'q', 99);
	reason[99] = '\0';
	snprintf(line, sizeof(line), "exists resource name:r0 suspended:%s", reason);
	apply_ok(m, line);
	r = res_of(m, "r0");
	ck_assert(r->suspended);
	ck_assert_uint_eq(strlen(r->suspended_reason), sizeof(r->suspended_reason) - 1);
	ck_assert_int_eq(memcmp(r->suspended_reason, reason, sizeof(r->suspended_reason) - 1), 0);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(timestamps_and_line_endings)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	apply_ok(m, "2025-01-30T10:00:00.100000+02:00 exists resource name:r0 role:Primary\n");
	r = res_of(m, "r0");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	apply_ok(m, "2019-05-07T13:50:23.973595-07:00 change resource name:r0 role:Secondary\r\n");
	ck_assert_int_eq(r->role, TS_ROLE_SECONDARY);
	apply_ok(m, "change resource name:r0 suspended:user\n");
	ck_assert_str_eq(r->suspended_reason, "user"); /* no newline kept in the value */
	apply_ok(m, "change  resource   name:r0  role:Primary ");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	expect_rc(m, "2025-01-30T10:00:00.100000+02:00", -EINVAL);
	expect_rc(m, "2025-01-30T10:00:00.100000+02:00 \n", -EINVAL);
	expect_rc(m, "2025-01-3OT10:00:00.100000+02:00 change resource name:r0 role:Secondary",
		  -EINVAL);
	expect_rc(m, "10:00:00 change resource name:r0 role:Secondary", -EINVAL);
	expect_rc(m, "2025-01-30T10:00:00.100000+02:00 exists -\n", TS_E2_DUMP_DONE);
	ck_assert(ts_drbd_model_dump_complete(m));
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(ignored_lines)
{
	static const char *const lines[] = {
		"", "\n", "\r\n", "   ", "# comment", "#change resource name:r0 role:Secondary",
		"- skipped 3",
		"2025-02-01T09:00:00.000100+00:00 - skipped 12",
		"create path name:r0 peer-node-id:1 conn-name:bob local:ipv4:1.2.3.4:7789 "
		"peer:ipv4:5.6.7.8:7790 established:no",
		"call helper name:r0 peer-node-id:1 conn-name:bob volume:0 minor:1 "
		"helper:before-resync-target",
		"response helper name:r0 volume:0 helper:fence-peer status:1",
		"rename resource name:r0 new_name:r1",
		"rename resource name:a/b new_name:c",
		"change widget name:r0 role:Secondary",
		"destroy path name:r0 peer-node-id:1 conn-name:bob local:x peer:y",
	};
	struct ts_drbd_model *m = ts_drbd_model_create();

	apply_ok(m, "exists resource name:r0 role:Primary");
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		struct snapshot before = take_snapshot(m), after;

		ck_assert_msg(ts_drbd_model_apply_line(m, lines[i]) == TS_E2_IGNORED, "%s",
			      lines[i]);
		after = take_snapshot(m);
		ck_assert_msg(snapshot_equal(&before, &after), "changed by: %s", lines[i]);
		free_snapshot(&before);
		free_snapshot(&after);
	}
	ck_assert_str_eq(res_of(m, "r0")->name, "r0");
	ck_assert(!ts_drbd_model_dump_complete(m));
	ts_drbd_model_destroy(m);
}
END_TEST

/* Against a populated model, each of these must be rejected without effect. */
static const char *const malformed_lines[] = {
	"exists", "change", "bogus resource name:r0", "Exists resource name:r0",
	"exists resource", "exists resource role:Primary",
	"change resource name:r0 role", "change resource name:r0 :Primary",
	"change resource name:r0 role:Secondary garbage",
	"exists device name:r0 minor:0 disk:UpToDate",
	"exists device name:r0 volume:-1", "exists device name:r0 volume:abc",
	"exists device name:r0 volume:99999999999", "exists device name:r0 volume:",
	"exists device name:r0 volume:0x1", "change device name:r0 volume:0 minor:1.0",
	"change device name:r0 volume:0 upper-pending:1e3",
	"exists connection name:r0 peer-node-id:1", "exists connection name:r0 conn-name:bob",
	"exists connection name:r0 peer-node-id:one conn-name:bob",
	"exists peer-device name:r0 peer-node-id:1 conn-name:bob",
	"exists peer-device name:r0 peer-node-id:1 volume:0",
	"change peer-device " PD_R0 " done:abc", "change peer-device " PD_R0 " done:nan",
	"change peer-device " PD_R0 " done:-1.00", "change peer-device " PD_R0 " done:1.",
	"change peer-device " PD_R0 " done:.5", "change peer-device " PD_R0 " done:1.2.3",
	"change peer-device " PD_R0 " done:", "change peer-device " PD_R0 " out-of-sync:12k",
	"change peer-device " PD_R0 " replication:SyncSource out-of-sync:x",
	"create - ", "destroy -",
	"change resource name:r0 role:Secondary name:",
};

static struct ts_drbd_model *populated_model(void)
{
	struct ts_drbd_model *m = ts_drbd_model_create();

	populate_two_volumes_two_peers(m, "r0");
	apply_ok(m, "exists connection " CONN_R0 " connection:Connected ap-in-flight:3");
	apply_ok(m, "exists peer-device " PD_R0 " replication:SyncTarget out-of-sync:77");
	return m;
}

START_TEST(malformed_lines_change_nothing)
{
	struct ts_drbd_model *m = populated_model();

	for (size_t i = 0; i < ARRAY_SIZE(malformed_lines); i++)
		expect_rc(m, malformed_lines[i], -EINVAL);
	ck_assert_int_eq(res_of(m, "r0")->role, TS_ROLE_PRIMARY);
	ck_assert_uint_eq(pd_of(res_of(m, "r0"), 1, 0)->out_of_sync, 77);
	ck_assert_int_eq(ts_drbd_model_apply_line(m, NULL), -EINVAL);
	ck_assert_int_eq(ts_drbd_model_apply_line(NULL, "exists -"), -EINVAL);
	ts_drbd_model_destroy(m);
}
END_TEST

/* Every prefix of every fixture line, applied to a model that holds that fixture. */
START_TEST(truncated_fixture_lines)
{
	size_t rejected = 0;

	for (size_t f = 0; f < ARRAY_SIZE(covered_fixtures); f++) {
		struct fixture *fx = fx_open(covered_fixtures[f]);

		fx_feed_to(fx, fx->n_lines);
		for (size_t n = 0; n < fx->n_lines; n++) {
			char *copy = strdup(fx->lines[n]);
			size_t len = strlen(copy);

			for (size_t cut = 0; cut < len; cut++) {
				copy[cut] = '\0';
				rejected += apply_any(fx->m, copy) < 0;
				copy[cut] = fx->lines[n][cut];
			}
			free(copy);
		}
		fx_close(fx);
	}
	ck_assert_uint_gt(rejected, 100);
}
END_TEST

START_TEST(huge_lines)
{
	const size_t size = 100 * 1024;
	struct ts_drbd_model *m = populated_model();
	char *line = malloc(size + 1);
	size_t len;

	ck_assert_ptr_nonnull(line);
	/* many unknown keys: accepted, the known one at the end still applies */
	len = (size_t)sprintf(line, "change resource name:r0");
	while (len + 32 < size)
		len += (size_t)sprintf(line + len, " k%zu:v", len);
	sprintf(line + len, " role:Secondary");
	apply_ok(m, line);
	ck_assert_int_eq(res_of(m, "r0")->role, TS_ROLE_SECONDARY);
	/* one huge token without a colon at the very end */
	memset(line + len, 'x', size - len);
	line[size] = '\0';
	line[len] = ' ';
	expect_rc(m, line, -EINVAL);
	/* a huge name */
	len = (size_t)sprintf(line, "exists resource name:");
	memset(line + len, 'n', size - len);
	line[size] = '\0';
	expect_rc(m, line, -EINVAL);
	/* a huge number and a huge done: */
	len = (size_t)sprintf(line, "change connection " CONN_R0 " ap-in-flight:");
	memset(line + len, '7', size - len);
	line[size] = '\0';
	expect_rc(m, line, -EINVAL);
	len = (size_t)sprintf(line, "change peer-device " PD_R0 " done:1.");
	memset(line + len, '0', size - len);
	line[size] = '\0';
	expect_rc(m, line, -EINVAL);
	/* only spaces */
	memset(line, ' ', size);
	line[size] = '\0';
	expect_rc(m, line, TS_E2_IGNORED);
	free(line);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(invalid_utf8)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;

	/* DRBD forbids only '/', spaces and control characters; other bytes are kept as-is */
	apply_ok(m, "exists resource name:r\xff\xfe\xc3 role:Primary");
	r = res_of(m, "r\xff\xfe\xc3");
	ck_assert_int_eq(r->role, TS_ROLE_PRIMARY);
	apply_ok(m, "change resource name:r\xff\xfe\xc3 role:Sec\xc3\x28ndary "
		    "suspended:\xed\xa0\x80");
	ck_assert_int_eq(r->role, TS_ROLE_UNKNOWN);
	ck_assert(r->suspended);
	ck_assert_str_eq(r->suspended_reason, "\xed\xa0\x80");
	expect_rc(m, "\xc0\xaf resource name:r0", -EINVAL);
	expect_rc(m, "exists resource name:r0 \xf8\x88\x80\x80\x80", -EINVAL);
	expect_rc(m, "change device name:r\xff\xfe\xc3 volume:\xd9\xa3", -EINVAL);
	ck_assert_uint_eq(ts_drbd_model_count(m), 1);
	ts_drbd_model_destroy(m);
}
END_TEST

/* xorshift64*: a fixed seed keeps failures reproducible */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

static const char *const soup_verbs[] = {
	"exists", "create", "change", "destroy", "call", "rename", "-",
	"2025-01-30T10:00:00.1+02:00",
};
static const char *const soup_objects[] = {
	"resource", "device", "connection", "peer-device", "path", "helper", "-", "",
	"resource name:r0", "device name:r1 volume:1",
	"connection name:r0 peer-node-id:1 conn-name:a",
	"peer-device name:r0 peer-node-id:1 conn-name:a volume:0",
};
static const char *const soup_words[] = {
	"name:r0", "name:r1", "name:r0", "name:", "volume:0", "volume:1", "minor:3",
	"peer-node-id:1", "peer-node-id:2", "conn-name:a", "conn-name:b", "role:Primary",
	"role:Secondary->Primary", "connection:Connected", "disk:UpToDate",
	"replication:SyncTarget", "replication:Established", "done:12.50", "out-of-sync:4096",
	"out-of-sync:18446744073709551615", "suspended:user", "ap-in-flight:18446744073709551608",
	"resync-suspended:peer", ":", "::", "->", "k:v->", "\xff\xfe", "\t", "\r", "\n", "x",
};

static const char *pick(uint64_t *state, const char *const *words, size_t n)
{
	return words[next_random(state) % n];
}

/* NUL-free bytes, or "verb object key:value..." assembled from likely pieces. */
static void random_line(uint64_t *state, char *buf, size_t size)
{
	size_t len, parts = next_random(state) % 5;

	if (next_random(state) % 3 == 0) {
		len = next_random(state) % (size - 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)(1 + next_random(state) % 255);
		buf[len] = '\0';
		return;
	}
	len = (size_t)snprintf(buf, size, "%s %s",
			       pick(state, soup_verbs, ARRAY_SIZE(soup_verbs)),
			       pick(state, soup_objects, ARRAY_SIZE(soup_objects)));
	for (size_t i = 0; i < parts; i++) {
		const char *w = pick(state, soup_words, ARRAY_SIZE(soup_words));

		if (len + strlen(w) + 2 >= size)
			break;
		len += (size_t)sprintf(buf + len, " %s", w);
	}
}

START_TEST(random_byte_soup)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	uint64_t state = UINT64_C(0x5eed0f7e57da7a);
	size_t accepted = 0, rejected = 0;
	char buf[512];

	for (int i = 0; i < 4000; i++) {
		int rc;

		random_line(&state, buf, sizeof(buf));
		rc = apply_any(m, buf);
		accepted += rc == TS_E2_APPLIED;
		rejected += rc < 0;
		if (i % 1000 == 999)
			ts_drbd_model_reset(m);
	}
	/* the soup must reach both the commit path and the error path */
	ck_assert_uint_gt(accepted, 20);
	ck_assert_uint_gt(rejected, 1000);
	ts_drbd_model_destroy(m);
}
END_TEST

START_TEST(find_and_order)
{
	struct ts_drbd_model *m = ts_drbd_model_create();

	apply_ok(m, "exists resource name:zeta");
	apply_ok(m, "exists device name:alpha volume:0");
	apply_ok(m, "exists resource name:mid");
	apply_ok(m, "change resource name:zeta role:Primary");
	ck_assert_uint_eq(ts_drbd_model_count(m), 3);
	ck_assert_str_eq(ts_drbd_model_at(m, 0)->name, "zeta");
	ck_assert_str_eq(ts_drbd_model_at(m, 1)->name, "alpha");
	ck_assert_str_eq(ts_drbd_model_at(m, 2)->name, "mid");
	ck_assert_ptr_null(ts_drbd_model_at(m, 3));
	ck_assert_ptr_eq(ts_drbd_model_find(m, "mid"), ts_drbd_model_at(m, 2));
	ck_assert_ptr_null(ts_drbd_model_find(m, "mi"));
	ck_assert_ptr_null(ts_drbd_model_find(m, "midd"));
	ck_assert_ptr_null(ts_drbd_model_find(m, NULL));
	ts_drbd_model_destroy(m);
}

/* Found by fuzz_events2: DRBD's formula can print done: above 100. */
START_TEST(test_done_over_100_is_clamped)
{
	struct ts_drbd_model *m = ts_drbd_model_create();
	const struct ts_drbd_resource *r;
	double done = -2;

	ck_assert_int_eq(ts_drbd_model_apply_line(m, "exists resource name:r0 role:Secondary "
						  "suspended:no"), TS_E2_APPLIED);
	ck_assert_int_eq(ts_drbd_model_apply_line(m, "exists peer-device name:r0 peer-node-id:1 "
						  "conn-name:p volume:0 replication:SyncTarget "
						  "peer-disk:UpToDate done:100.01"), TS_E2_APPLIED);
	r = ts_drbd_model_find(m, "r0");
	ck_assert_ptr_nonnull(r);
	ck_assert(ts_drbd_resource_resyncing(r, &done));
	ck_assert_double_eq(done, 100.0);
	ts_drbd_model_destroy(m);
}
END_TEST
END_TEST

static Suite *drbd_model_suite(void)
{
	Suite *s = suite_create("drbd_model");

	TS_ADD_TEST(s, fixture_steady_connected);
	TS_ADD_TEST(s, fixture_steady_connected_ug9);
	TS_ADD_TEST(s, fixture_resync_in_progress);
	TS_ADD_TEST(s, fixture_resync_in_progress_drbdutils_test);
	TS_ADD_TEST(s, fixture_role_switch_harness);
	TS_ADD_TEST(s, fixture_role_switch_failover);
	TS_ADD_TEST(s, fixture_peer_lost);
	TS_ADD_TEST(s, fixture_suspended_io);
	TS_ADD_TEST(s, fixture_helper_call);
	TS_ADD_TEST(s, fixture_v84);
	TS_ADD_TEST(s, v84_real_every_capture_replays);
	TS_ADD_TEST(s, v84_real_steady);
	TS_ADD_TEST(s, v84_real_suspended);
	TS_ADD_TEST(s, v84_real_failover);
	TS_ADD_TEST(s, v84_real_resync);
	TS_ADD_TEST(s, v84_real_helper_refused_resync);
	TS_ADD_TEST(s, v84_real_standalone_then_connect);
	TS_ADD_TEST(s, v84_standalone_without_conn_name);
	TS_ADD_TEST(s, every_fixture_replays_and_is_covered);
	TS_ADD_TEST(s, change_merges_only_given_keys);
	TS_ADD_TEST(s, sub_object_creates_resource);
	TS_ADD_TEST(s, change_or_destroy_of_unknown_object_is_rejected);
	TS_ADD_TEST(s, destroy_removes_objects_and_dependents);
	TS_ADD_TEST(s, reset_forgets_everything);
	TS_ADD_TEST(s, diff_form_takes_new_value);
	TS_ADD_TEST(s, v84_peer_device_minor);
	TS_ADD_TEST(s, v84_progress_estimate);
	TS_ADD_TEST(s, v84_progress_unknown_without_total);
	TS_ADD_TEST(s, done_lowest_and_not_stale);
	TS_ADD_TEST(s, split_at_first_colon);
	TS_ADD_TEST(s, u64_counters_and_wrap);
	TS_ADD_TEST(s, limits_give_enospc);
	TS_ADD_TEST(s, resource_name_rules);
	TS_ADD_TEST(s, enum_strings_exact_and_round_trip);
	TS_ADD_TEST(s, resync_state_set);
	TS_ADD_TEST(s, lenient_unknown_values_and_keys);
	TS_ADD_TEST(s, suspended_reason_truncated_safely);
	TS_ADD_TEST(s, timestamps_and_line_endings);
	TS_ADD_TEST(s, ignored_lines);
	TS_ADD_TEST(s, malformed_lines_change_nothing);
	TS_ADD_TEST(s, truncated_fixture_lines);
	TS_ADD_TEST(s, huge_lines);
	TS_ADD_TEST(s, invalid_utf8);
	TS_ADD_TEST(s, random_byte_soup);
	TS_ADD_TEST(s, find_and_order);
	TS_ADD_TEST(s, test_done_over_100_is_clamped);
	return s;
}


int main(void)
{
	return ts_run_suite(drbd_model_suite());
}
