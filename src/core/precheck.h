/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * precheck — may this snapshot be taken?  Decided when its CREATE is
 * delivered, on both PMs, from facts both PMs hold identically at that
 * point of the agreed order (the CREATE itself with the origin's VM facts,
 * the replicated settings, the CPG membership, the node reports both PMs
 * published, each PM's catalog).  Same facts, same verdict, so a refusal
 * creates nothing anywhere.  Pure.
 *
 * Checks run in a fixed order and the first that fails is the verdict.
 */
#ifndef TS_PRECHECK_H
#define TS_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nodestate.h"
#include "core/snapshot.h"

/** The VM as the origin's hypervisor described it in the CREATE. */
struct ts_vm_facts {
	bool known;
	bool uefi;
	uint32_t n_volumes;
	char volumes[TS_SNAP_MAX_VOLUMES][TS_VOLUME_NAME_MAX];
	char boot_volume[TS_VOLUME_NAME_MAX];   /* "" when the VM has no disk */
};

struct ts_precheck_node {
	const char *name;
	uint32_t nodeid;
	bool member;
	bool maintenance;
	const struct ts_node_report *report;    /* as delivered; NULL if none */
};

struct ts_precheck_in {
	const struct ts_snapshot *req;          /* vm, selected volumes, sizes, consistency */
	const struct ts_vm_facts *vm;
	bool snapshots_enabled;
	struct ts_precheck_node nodes[TS_NODE_PAIR];
	size_t in_flight_same_vm;               /* catalog rows of this VM in progress */
	uint64_t needed_bytes;                  /* the store's estimate for these volumes */
};

struct ts_precheck_out {
	char code[40];                          /* snake_case, e.g. "node_in_maintenance" */
	char message[256];                      /* "refused: pm2 is in maintenance mode" */
	uint32_t primary;                       /* when accepted: the VM's Primary PM */
	uint32_t secondary;
};

/** 0 when the snapshot may be taken (primary/secondary set), 1 when refused. */
int ts_precheck(const struct ts_precheck_in *in, struct ts_precheck_out *out);

/** "VM-VOLUME", the DRBD resource of a VM volume; -ENAMETOOLONG if it does not fit. */
int ts_drbd_resource_name(const char *vm, const char *volume, char *buf, size_t len);

#endif
