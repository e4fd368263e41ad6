/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the snapshot refusal rules (core/precheck): one test per rule. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "check_common.h"
#include "core/precheck.h"

struct world {
	struct ts_snapshot req;
	struct ts_vm_facts vm;
	struct ts_node_report rep[2];
	struct ts_precheck_in in;
};

static void healthy(struct ts_node_report *r, const char *node, uint32_t id, bool primary)
{
	static const char *const res[] = { "vm1-boot", "vm1-data", "vm2-boot" };

	memset(r, 0, sizeof(*r));
	strcpy(r->node, node);
	r->nodeid = id;
	r->drbd_ready = true;
	r->store_known = true;
	r->store_free_bytes = 400ull << 20;
	r->n_drbd = 3;
	for (int i = 0; i < 3; i++) {
		struct ts_drbd_summary *d = &r->drbd[i];

		strcpy(d->resource, res[i]);
		d->role = primary ? TS_ROLE_PRIMARY : TS_ROLE_SECONDARY;
		d->connection = TS_CONN_CONNECTED;
		d->disk = d->peer_disk = TS_DISK_UPTODATE;
		d->replication = TS_REPL_ESTABLISHED;
	}
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	strcpy(w->req.vm, "vm1");
	w->req.n_volumes = 2;
	strcpy(w->req.volumes[0], "boot");
	strcpy(w->req.volumes[1], "data");
	w->vm.known = true;
	w->vm.n_volumes = 2;
	strcpy(w->vm.volumes[0], "boot");
	strcpy(w->vm.volumes[1], "data");
	strcpy(w->vm.boot_volume, "boot");
	healthy(&w->rep[0], "pm1", 1, true);
	healthy(&w->rep[1], "pm2", 2, false);
	w->in.req = &w->req;
	w->in.vm = &w->vm;
	w->in.snapshots_enabled = true;
	w->in.needed_bytes = 128ull << 20;
	for (int i = 0; i < 2; i++) {
		w->in.nodes[i].name = i ? "pm2" : "pm1";
		w->in.nodes[i].nodeid = (uint32_t)i + 1;
		w->in.nodes[i].member = true;
		w->in.nodes[i].report = &w->rep[i];
	}
}

static void expect_refusal(struct world *w, const char *code, const char *needle)
{
	struct ts_precheck_out out;

	ck_assert_int_eq(ts_precheck(&w->in, &out), 1);
	ck_assert_str_eq(out.code, code);
	ck_assert_msg(strncmp(out.message, "refused: ", 9) == 0, "message '%s'", out.message);
	ck_assert_msg(strstr(out.message, needle), "message '%s' lacks '%s'", out.message, needle);
}

START_TEST(test_healthy_pair_is_accepted_and_primary_found)
{
	struct world w;
	struct ts_precheck_out out;

	world_init(&w);
	ck_assert_int_eq(ts_precheck(&w.in, &out), 0);
	ck_assert_uint_eq(out.primary, 1);
	ck_assert_uint_eq(out.secondary, 2);
	/* After a failover pm2 is the primary. */
	healthy(&w.rep[0], "pm1", 1, false);
	healthy(&w.rep[1], "pm2", 2, true);
	ck_assert_int_eq(ts_precheck(&w.in, &out), 0);
	ck_assert_uint_eq(out.primary, 2);
	ck_assert_uint_eq(out.secondary, 1);
}
END_TEST

START_TEST(test_request_rules)
{
	struct world w;

	world_init(&w);
	w.in.snapshots_enabled = false;
	expect_refusal(&w, "snapshots_disabled", "disabled");
	world_init(&w);
	w.vm.known = false;
	expect_refusal(&w, "unknown_vm", "vm1");
	world_init(&w);
	strcpy(w.req.volumes[1], "swap");
	expect_refusal(&w, "unknown_volume", "swap");
	world_init(&w);
	w.req.n_volumes = 1;
	strcpy(w.req.volumes[0], "data");
	expect_refusal(&w, "boot_volume_not_selected", "boot");
	world_init(&w);
	strcpy(w.req.volumes[1], "boot");
	expect_refusal(&w, "duplicate_volume", "boot");
	world_init(&w);
	w.vm.uefi = true;
	expect_refusal(&w, "uefi_firmware", "UEFI");
	world_init(&w);
	w.req.n_volumes = 0;
	expect_refusal(&w, "no_volume", "vm1");
}
END_TEST

START_TEST(test_node_rules_name_the_pm)
{
	struct world w;

	world_init(&w);
	w.in.nodes[1].member = false;
	expect_refusal(&w, "node_down", "pm2 is down");
	world_init(&w);
	w.in.nodes[1].maintenance = true;
	expect_refusal(&w, "node_in_maintenance", "pm2 is in maintenance mode");
	world_init(&w);
	w.in.nodes[0].report = NULL;
	expect_refusal(&w, "drbd_state_unknown", "pm1");
	world_init(&w);
	w.rep[1].drbd_ready = false;
	expect_refusal(&w, "drbd_state_unknown", "pm2");
}
END_TEST

START_TEST(test_drbd_rules)
{
	struct world w;

	world_init(&w);
	w.rep[0].drbd[1].resyncing = true;
	w.rep[0].drbd[1].has_done = true;
	w.rep[0].drbd[1].done = 37.5;
	w.rep[0].drbd[1].replication = TS_REPL_SYNCSOURCE;
	expect_refusal(&w, "drbd_resyncing", "vm1-data is resyncing on pm1 (37.5% done)");
	world_init(&w);
	w.rep[1].drbd[0].connection = TS_CONN_CONNECTING;
	w.rep[1].drbd[0].replication = TS_REPL_OFF;
	expect_refusal(&w, "drbd_disconnected", "vm1-boot is not connected on pm2");
	world_init(&w);
	w.rep[1].drbd[0].peer_disk = TS_DISK_OUTDATED;
	expect_refusal(&w, "drbd_not_uptodate", "UpToDate/Outdated on pm2");
	world_init(&w);
	w.rep[0].drbd[0].suspended = true;
	expect_refusal(&w, "drbd_suspended", "pm1");
	world_init(&w);
	w.rep[1].n_drbd = 1;
	expect_refusal(&w, "drbd_resource_missing", "pm2 has no DRBD resource vm1-data");
	/* Resyncing a volume that is not selected does not matter. */
	world_init(&w);
	w.rep[0].drbd[2].resyncing = true;
	{
		struct ts_precheck_out out;

		ck_assert_int_eq(ts_precheck(&w.in, &out), 0);
	}
}
END_TEST

START_TEST(test_primary_must_be_one_pm)
{
	struct world w;

	world_init(&w);
	w.rep[1].drbd[1].role = TS_ROLE_PRIMARY;     /* dual primary on vm1-data */
	expect_refusal(&w, "no_single_primary", "vm1");
	world_init(&w);
	w.rep[0].drbd[1].role = TS_ROLE_SECONDARY;   /* split: boot on pm1, data nowhere */
	expect_refusal(&w, "no_single_primary", "vm1");
}
END_TEST

START_TEST(test_in_flight_and_space)
{
	struct world w;

	world_init(&w);
	w.in.in_flight_same_vm = 1;
	expect_refusal(&w, "snapshot_in_flight", "vm1");
	/* Our own snapshot in flight suspends I/O: the reason given is the
	 * snapshot, not the suspension it causes. */
	w.rep[0].drbd[0].suspended = true;
	expect_refusal(&w, "snapshot_in_flight", "vm1");
	world_init(&w);
	w.rep[1].store_free_bytes = 100ull << 20;
	expect_refusal(&w, "insufficient_space", "pm2 (100 MiB free, 128 MiB needed)");
	world_init(&w);
	w.rep[0].store_known = false;
	expect_refusal(&w, "store_unavailable", "pm1");
}
END_TEST

/* The first failing rule wins, so both PMs name the same reason. */
START_TEST(test_order_is_fixed)
{
	struct world w;

	world_init(&w);
	w.in.nodes[1].maintenance = true;
	w.rep[0].drbd[0].resyncing = true;
	w.vm.uefi = true;
	expect_refusal(&w, "uefi_firmware", "UEFI");
	w.vm.uefi = false;
	expect_refusal(&w, "node_in_maintenance", "pm2");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("precheck");

	TS_ADD_TEST(s, test_healthy_pair_is_accepted_and_primary_found);
	TS_ADD_TEST(s, test_request_rules);
	TS_ADD_TEST(s, test_node_rules_name_the_pm);
	TS_ADD_TEST(s, test_drbd_rules);
	TS_ADD_TEST(s, test_primary_must_be_one_pm);
	TS_ADD_TEST(s, test_in_flight_and_space);
	TS_ADD_TEST(s, test_order_is_fixed);
	return ts_run_suite(s);
}
