/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapshot — what a coordinated snapshot is, in core terms: its identity,
 * what the admin asked for, the VM facts it was taken from, and where it is
 * in the protocol.  Shared by the state machine (snapfsm), the prechecks,
 * the catalog adapter (SQLite) and the wire mapping.  Pure data + validators.
 *
 * The user sees two states: broken (in progress, or present on one PM only)
 * and normal (both PMs committed).  The protocol phase says more.
 */
#ifndef TS_SNAPSHOT_H
#define TS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_SNAP_ID_LEN 32               /* lowercase hex characters */
#define TS_SNAP_MAX_VOLUMES 16
#define TS_VOLUME_NAME_MAX 64           /* incl. NUL; [A-Za-z0-9._-] */
#define TS_VM_NAME_LEN_MAX 64           /* incl. NUL; [A-Za-z0-9._-] */
#define TS_SNAP_NAME_MAX 256            /* bytes incl. NUL; valid UTF-8, no controls */
#define TS_SNAP_DESC_MAX 1024           /* bytes incl. NUL; valid UTF-8, no controls but \n\t */
#define TS_NODE_PAIR 2

enum ts_snap_state { TS_SNAP_BROKEN = 0, TS_SNAP_NORMAL = 1 };

enum ts_consistency {
	TS_CONS_CRASH = 0,
	TS_CONS_APPLICATION = 1,
	TS_CONS_AUTO = 2,               /* requested only: achieved is crash or application */
};

/*
 * Protocol phase of a snapshot on this PM (see docs/protocol.md):
 *   CREATED    CREATE delivered and accepted; the primary quiesces
 *   FROZEN     FROZEN delivered; this PM is taking its pieces
 *   TAKEN      this PM's pieces are durable (the secondary has sent TAKEN;
 *              the primary waits for the secondary's TAKEN)
 *   COMMITTING the primary has sent its own TAKEN (and resumed I/O)
 *   NORMAL     both TAKEN delivered, primary's last
 *   PENDING    the peer was lost after this PM sent its TAKEN: pieces kept
 *              until the PMs reconcile (the peer may have seen it normal)
 */
/* The phases of a snapshot in flight come first, before NORMAL: the catalog
 * counts them with "phase < NORMAL".  Values are stored: never renumber. */
enum ts_snap_phase {
	TS_PH_CREATED = 0, TS_PH_FROZEN, TS_PH_TAKEN, TS_PH_COMMITTING,
	TS_PH_NORMAL, TS_PH_PENDING,
	TS_PH__COUNT,
};

/** A snapshot row as both PMs hold it (one per PM; pieces are local). */
struct ts_snapshot {
	char id[TS_SNAP_ID_LEN + 1];
	char vm[TS_VM_NAME_LEN_MAX];
	char name[TS_SNAP_NAME_MAX];
	char description[TS_SNAP_DESC_MAX];
	enum ts_consistency consistency_requested;
	enum ts_consistency consistency_achieved;   /* crash or application */
	uint32_t n_volumes;
	char volumes[TS_SNAP_MAX_VOLUMES][TS_VOLUME_NAME_MAX];
	uint64_t volume_bytes[TS_SNAP_MAX_VOLUMES];   /* sizes at create time */
	int64_t created_at_ms;          /* unix time, origin's clock */
	uint32_t origin;                /* nodeid that multicast CREATE */
	uint64_t request;               /* origin's request token (0: none) */
	uint32_t primary;               /* nodeid that quiesces (DRBD Primary) */
	uint32_t secondary;
	enum ts_snap_phase phase;
	bool taken_by[TS_NODE_PAIR];    /* TAKEN delivered from [0]=primary, [1]=secondary */
	bool sent_taken;                /* this PM multicast its TAKEN (persisted before sending) */
	bool current_config;            /* created in the current CPG configuration */
	char *domain_xml;               /* the VM's libvirt XML at the snapshot instant; owned */
	bool abort_sent;                /* local, not persisted: this PM multicast ABORT,
					 * so it never sends its TAKEN afterwards */
};

/** One line of the event log (both PMs log the same decisions). */
struct ts_event {
	int64_t seq;                    /* assigned by the catalog, increasing */
	int64_t time_ms;                /* unix time */
	char kind[24];                  /* created normal refused aborted auto_deleted deleted
					 * maintenance snapshots ... */
	char snapshot[TS_SNAP_ID_LEN + 1];      /* "" when not about one */
	char vm[TS_VM_NAME_LEN_MAX];
	char reason[40];                /* snake_case: failover, primary_lost, peer_lost, ... */
	char message[512];
};

enum ts_snap_state ts_snapshot_state(const struct ts_snapshot *s);

const char *ts_snap_phase_str(enum ts_snap_phase p);
const char *ts_consistency_str(enum ts_consistency c);
/** -EINVAL for an unknown spelling. */
int ts_consistency_parse(const char *s, enum ts_consistency *out);

/** 32 lowercase hex characters. */
bool ts_snapshot_id_valid(const char *id);
/** [A-Za-z0-9._-], 1..63, not starting with '.' or '-' (never a path). */
bool ts_volume_name_valid(const char *name);
bool ts_vm_name_valid(const char *name);
/**
 * Snapshot names and descriptions: valid UTF-8, within the size limit, no
 * control characters (descriptions may hold \n and \t).  They are stored
 * as text and never used to build a path.
 */
bool ts_snapshot_name_valid(const char *name);
/**
 * Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF) of
 * fewer than @max bytes, without control characters (C0, DEL, C1) other
 * than those listed in @allowed.  The empty string is valid.
 */
bool ts_utf8_text_valid(const char *s, size_t max, const char *allowed);
bool ts_snapshot_description_valid(const char *desc);

/** Deep copy (domain_xml duplicated); aborts on out-of-memory. */
void ts_snapshot_copy(struct ts_snapshot *dst, const struct ts_snapshot *src);
/** Free what the row owns (domain_xml), leave the rest. */
void ts_snapshot_release(struct ts_snapshot *s);

#endif
