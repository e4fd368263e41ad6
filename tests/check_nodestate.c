/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the node-state derivation rules (core/nodestate). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "core/drbd_model.h"
#include "core/nodestate.h"

static struct ts_node_report *report_from_lines(const char *const *lines)
{
	static struct ts_node_report rep;
	struct ts_drbd_model *m = ts_drbd_model_create();

	for (; *lines; lines++)
		ck_assert_int_ge(ts_drbd_model_apply_line(m, *lines), 0);
	memset(&rep, 0, sizeof(rep));
	ck_assert_uint_eq(ts_node_report_fill(&rep, m), 0);
	ts_drbd_model_destroy(m);
	return &rep;
}

static const char *const steady[] = {
	"exists resource name:r0 role:Primary suspended:no",
	"exists connection name:r0 peer-node-id:1 conn-name:pm2 connection:Connected role:Secondary",
	"exists device name:r0 volume:0 minor:0 disk:UpToDate",
	"exists peer-device name:r0 peer-node-id:1 conn-name:pm2 volume:0 replication:Established "
	"peer-disk:UpToDate resync-suspended:no",
	"exists -",
	NULL,
};

static const char *const syncing_two[] = {
	"exists resource name:r0 role:Primary suspended:no",
	"exists connection name:r0 peer-node-id:1 conn-name:pm2 connection:Connected role:Secondary",
	"exists device name:r0 volume:0 minor:0 disk:UpToDate",
	"exists peer-device name:r0 peer-node-id:1 conn-name:pm2 volume:0 replication:SyncSource "
	"peer-disk:Inconsistent resync-suspended:no done:62.50",
	"exists resource name:r1 role:Secondary suspended:no",
	"exists connection name:r1 peer-node-id:1 conn-name:pm2 connection:Connected role:Primary",
	"exists device name:r1 volume:0 minor:1 disk:Inconsistent",
	"exists peer-device name:r1 peer-node-id:1 conn-name:pm2 volume:0 replication:SyncTarget "
	"peer-disk:UpToDate resync-suspended:no done:12.25",
	"exists -",
	NULL,
};

START_TEST(test_not_member_is_down_whatever_else)
{
	double done;
	struct ts_node_report *r = report_from_lines(syncing_two);

	ck_assert_int_eq(ts_node_state_derive(false, true, r, &done), TS_NODE_DOWN);
	ck_assert_int_eq(ts_node_state_derive(false, false, NULL, &done), TS_NODE_DOWN);
	ck_assert(done < 0);
}
END_TEST

START_TEST(test_maintenance_wins_over_syncing)
{
	double done;
	struct ts_node_report *r = report_from_lines(syncing_two);

	ck_assert_int_eq(ts_node_state_derive(true, true, r, &done), TS_NODE_MAINTENANCE);
	ck_assert(done < 0);
}
END_TEST

START_TEST(test_syncing_reports_lowest_done)
{
	double done;
	struct ts_node_report *r = report_from_lines(syncing_two);

	ck_assert_int_eq(ts_node_state_derive(true, false, r, &done), TS_NODE_SYNCING);
	ck_assert_double_eq_tol(done, 12.25, 0.001);
	ck_assert_uint_eq(r->n_drbd, 2);
	ck_assert(r->drbd[0].resyncing && r->drbd[1].resyncing);
	ck_assert_int_eq(r->drbd[1].disk, TS_DISK_INCONSISTENT);
	ck_assert_int_eq(r->drbd[1].replication, TS_REPL_SYNCTARGET);
}
END_TEST

START_TEST(test_steady_is_running)
{
	double done;
	struct ts_node_report *r = report_from_lines(steady);

	ck_assert(r->drbd_ready);
	ck_assert_int_eq(ts_node_state_derive(true, false, r, &done), TS_NODE_RUNNING);
	ck_assert(done < 0);
	ck_assert_int_eq(r->drbd[0].role, TS_ROLE_PRIMARY);
	ck_assert_int_eq(r->drbd[0].connection, TS_CONN_CONNECTED);
	ck_assert_int_eq(r->drbd[0].peer_disk, TS_DISK_UPTODATE);
	ck_assert_int_eq(r->drbd[0].replication, TS_REPL_ESTABLISHED);
}
END_TEST

START_TEST(test_member_without_report_is_unknown)
{
	double done;

	ck_assert_int_eq(ts_node_state_derive(true, false, NULL, &done), TS_NODE_UNKNOWN);
}
END_TEST

START_TEST(test_resync_without_done_is_syncing_without_progress)
{
	static const char *const lines[] = {
		"exists resource name:r0 role:Primary suspended:no",
		"exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 minor:0 "
		"replication:PausedSyncS peer-disk:Inconsistent resync-suspended:user",
		"exists -",
		NULL,
	};
	double done;
	struct ts_node_report *r = report_from_lines(lines);

	ck_assert_int_eq(ts_node_state_derive(true, false, r, &done), TS_NODE_SYNCING);
	ck_assert(done < 0);
}
END_TEST

START_TEST(test_worst_disk_of_volumes)
{
	static const char *const lines[] = {
		"exists resource name:r0 role:Primary suspended:user",
		"exists device name:r0 volume:0 minor:0 disk:UpToDate",
		"exists device name:r0 volume:1 minor:1 disk:Outdated",
		NULL,
	};
	struct ts_node_report *r = report_from_lines(lines);

	ck_assert_int_eq(r->drbd[0].disk, TS_DISK_OUTDATED);
	ck_assert(r->drbd[0].suspended);
	ck_assert(!r->drbd_ready);
}
END_TEST

START_TEST(test_report_equal)
{
	struct ts_node_report a, b;

	memcpy(&a, report_from_lines(syncing_two), sizeof(a));
	memcpy(&b, &a, sizeof(b));
	ck_assert(ts_node_report_equal(&a, &b));
	b.drbd[1].done = 12.5;
	ck_assert(!ts_node_report_equal(&a, &b));
	memcpy(&b, &a, sizeof(b));
	b.n_drbd = 1;
	ck_assert(!ts_node_report_equal(&a, &b));
}
END_TEST

START_TEST(test_node_names)
{
	char longname[80];

	ck_assert(ts_node_name_valid("pm1"));
	ck_assert(ts_node_name_valid("node-a.example_1"));
	ck_assert(!ts_node_name_valid(""));
	ck_assert(!ts_node_name_valid("../etc"));
	ck_assert(!ts_node_name_valid("a/b"));
	ck_assert(!ts_node_name_valid("-rf"));
	ck_assert(!ts_node_name_valid("pm 1"));
	ck_assert(!ts_node_name_valid("p\xc3\xa9"));
	memset(longname, 'a', sizeof(longname));
	longname[63] = '\0';
	ck_assert(ts_node_name_valid(longname));
	longname[63] = 'a';
	longname[64] = '\0';
	ck_assert(!ts_node_name_valid(longname));
	ck_assert_str_eq(ts_node_state_str(TS_NODE_SYNCING), "syncing");
	ck_assert_str_eq(ts_node_state_str((enum ts_node_state)99), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nodestate");

	TS_ADD_TEST(s, test_not_member_is_down_whatever_else);
	TS_ADD_TEST(s, test_maintenance_wins_over_syncing);
	TS_ADD_TEST(s, test_syncing_reports_lowest_done);
	TS_ADD_TEST(s, test_steady_is_running);
	TS_ADD_TEST(s, test_member_without_report_is_unknown);
	TS_ADD_TEST(s, test_resync_without_done_is_syncing_without_progress);
	TS_ADD_TEST(s, test_worst_disk_of_volumes);
	TS_ADD_TEST(s, test_report_equal);
	TS_ADD_TEST(s, test_node_names);
	return ts_run_suite(s);
}
