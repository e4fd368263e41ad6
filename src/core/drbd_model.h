/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * drbd_model — the agent's picture of local DRBD, built from the text that
 * `drbdsetup events2 --statistics --timestamps` prints (DRBD 9 and the 8.4
 * form of drbdsetup-84).  Pure: no I/O, no globals.  The drbd adapter feeds
 * it one line at a time; the node-state rules read it.
 *
 * Grammar and semantics: ../shared/drbd/GRAMMAR.md.  Tokens are split on
 * single spaces, each key:value at the FIRST colon; `change` lines carry only
 * the changed keys and are merged into the held state; unknown keys and
 * unknown objects (path, helper) are ignored; `destroy` removes the object.
 */
#ifndef TS_DRBD_MODEL_H
#define TS_DRBD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_DRBD_NAME_MAX 64        /* resource and conn-name, incl. NUL */
#define TS_DRBD_MAX_VOLUMES 16     /* per resource */
#define TS_DRBD_MAX_PEERS 4        /* connections per resource */
#define TS_DRBD_MAX_RESOURCES 1024

enum ts_drbd_role { TS_ROLE_UNKNOWN = 0, TS_ROLE_PRIMARY, TS_ROLE_SECONDARY };

enum ts_drbd_conn {
	TS_CONN_UNKNOWN = 0, TS_CONN_STANDALONE, TS_CONN_DISCONNECTING,
	TS_CONN_UNCONNECTED, TS_CONN_TIMEOUT, TS_CONN_BROKENPIPE,
	TS_CONN_NETWORKFAILURE, TS_CONN_PROTOCOLERROR, TS_CONN_TEARDOWN,
	TS_CONN_CONNECTING, TS_CONN_CONNECTED,
};

enum ts_drbd_disk {
	TS_DISK_UNKNOWN = 0, TS_DISK_DISKLESS, TS_DISK_ATTACHING,
	TS_DISK_DETACHING, TS_DISK_FAILED, TS_DISK_NEGOTIATING,
	TS_DISK_INCONSISTENT, TS_DISK_OUTDATED, TS_DISK_DUNKNOWN,
	TS_DISK_CONSISTENT, TS_DISK_UPTODATE,
};

enum ts_drbd_repl {
	TS_REPL_UNKNOWN = 0, TS_REPL_OFF, TS_REPL_ESTABLISHED,
	TS_REPL_STARTINGSYNCS, TS_REPL_STARTINGSYNCT, TS_REPL_WFBITMAPS,
	TS_REPL_WFBITMAPT, TS_REPL_WFSYNCUUID, TS_REPL_SYNCSOURCE,
	TS_REPL_SYNCTARGET, TS_REPL_VERIFYS, TS_REPL_VERIFYT,
	TS_REPL_PAUSEDSYNCS, TS_REPL_PAUSEDSYNCT, TS_REPL_AHEAD, TS_REPL_BEHIND,
};

struct ts_drbd_device {
	int volume;
	int minor;                 /* -1 until known */
	enum ts_drbd_disk disk;
	uint64_t upper_pending;    /* requests, from --statistics */
	uint64_t lower_pending;
};

struct ts_drbd_connection {
	int peer_node_id;
	char conn_name[TS_DRBD_NAME_MAX];
	enum ts_drbd_conn state;
	enum ts_drbd_role peer_role;
	uint64_t ap_in_flight;     /* sectors of application writes not yet acked */
	uint64_t rs_in_flight;
};

struct ts_drbd_peer_device {
	int peer_node_id;
	int volume;
	enum ts_drbd_repl replication;
	enum ts_drbd_disk peer_disk;
	bool resync_suspended;     /* anything but "no" */
	bool has_done;             /* a done: value was seen (DRBD 9 only) */
	double done;               /* percent, 0..100 */
	uint64_t out_of_sync;      /* KiB */
	uint64_t pending;          /* requests sent, not yet answered */
	uint64_t unacked;
	uint64_t resync_total;     /* KiB: largest out_of_sync seen since this resync began
	                            * (0 when not resyncing); the 8.4 progress estimate */
};

struct ts_drbd_resource {
	char name[TS_DRBD_NAME_MAX];
	enum ts_drbd_role role;
	bool suspended;            /* suspended: anything but "no" */
	char suspended_reason[48]; /* the raw value, e.g. "user,quorum" or "no" */
	size_t n_devices, n_connections, n_peer_devices;
	struct ts_drbd_device devices[TS_DRBD_MAX_VOLUMES];
	struct ts_drbd_connection connections[TS_DRBD_MAX_PEERS];
	struct ts_drbd_peer_device peer_devices[TS_DRBD_MAX_VOLUMES * TS_DRBD_MAX_PEERS];
};

struct ts_drbd_model;

/** Allocate an empty model (aborts on out-of-memory).  Free with _destroy. */
struct ts_drbd_model *ts_drbd_model_create(void);
void ts_drbd_model_destroy(struct ts_drbd_model *m);

/** Forget everything, e.g. before a restarted drbdsetup's new `exists` dump. */
void ts_drbd_model_reset(struct ts_drbd_model *m);

/** Result codes of ts_drbd_model_apply_line(), besides -errno. */
enum { TS_E2_APPLIED = 0, TS_E2_IGNORED = 1, TS_E2_DUMP_DONE = 2 };

/**
 * Apply one events2 line (with or without timestamp, without or with the
 * trailing newline).  Returns TS_E2_APPLIED when state changed or an object
 * was created, TS_E2_IGNORED for blank/comment/helper/call/response/rename
 * lines, `- skipped N`, path objects and unknown objects, TS_E2_DUMP_DONE for
 * `exists -`, and -EINVAL for a malformed line (no verb, a token without a
 * colon, a missing identity key, a bad number, an identity naming an object
 * not yet known on a `change`); a malformed line changes nothing.
 * -ENOSPC when a limit above would be exceeded.
 */
int ts_drbd_model_apply_line(struct ts_drbd_model *m, const char *line);

/**
 * Apply every line of @text, the whole output of one `drbdsetup events2
 * --now` run (its newlines are overwritten: @text is consumed).  A line
 * that does not apply is skipped, as ts_drbd_model_apply_line() leaves it.
 */
void ts_drbd_model_apply_text(struct ts_drbd_model *m, char *text);

/** True once `exists -` was seen since create/reset. */
bool ts_drbd_model_dump_complete(const struct ts_drbd_model *m);

size_t ts_drbd_model_count(const struct ts_drbd_model *m);
/** i-th resource in order of first appearance; NULL when out of range. */
const struct ts_drbd_resource *ts_drbd_model_at(const struct ts_drbd_model *m, size_t i);
const struct ts_drbd_resource *ts_drbd_model_find(const struct ts_drbd_model *m, const char *name);

/** A resync (or its start-up phases, paused included) is running on a peer device. */
bool ts_drbd_repl_is_resync(enum ts_drbd_repl r);

/**
 * True when any peer device of @res is resyncing; *done_pct (if given) is the
 * lowest done% among them, or -1 when none printed a done: (DRBD 8.4), in
 * which case the progress is estimated from out-of-sync when possible.
 */
bool ts_drbd_resource_resyncing(const struct ts_drbd_resource *res, double *done_pct);

const char *ts_drbd_role_str(enum ts_drbd_role v);
const char *ts_drbd_conn_str(enum ts_drbd_conn v);
const char *ts_drbd_disk_str(enum ts_drbd_disk v);
const char *ts_drbd_repl_str(enum ts_drbd_repl v);

#endif
