/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wire — the one place that knows protobuf: core structs ⇄ the messages of
 * proto/twinsnap.proto.  The core never sees protobuf; adapters call this.
 * Decoding treats every byte as hostile: bad encodings, oversized strings
 * and unknown message kinds are rejected with TS_EPROTO and leave the output
 * untouched.
 */
#ifndef TS_WIRE_H
#define TS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nodestate.h"
#include "core/precheck.h"
#include "core/settings.h"
#include "core/snapfsm.h"
#include "core/snapshot.h"
#include "twinsnap.pb-c.h"

/** Bumped when a message changes meaning; peers with another value are ignored. */
#define TS_PROTOCOL_VERSION 1

enum ts_cmsg_kind {
	TS_CMSG_REPORT = 1, TS_CMSG_SET, TS_CMSG_SYNC,
	TS_CMSG_CREATE, TS_CMSG_FROZEN, TS_CMSG_TAKEN, TS_CMSG_ABORT, TS_CMSG_DELETE,
	TS_CMSG_DIGEST,
};

struct ts_digest_entry {
	char id[TS_SNAP_ID_LEN + 1];
	enum ts_peer_view view;
};

/** A CPG message in core terms.  Large: allocate it, do not put it on the stack. */
struct ts_cluster_msg {
	uint32_t protocol;
	char sender[TS_NODE_NAME_MAX];
	uint64_t request;
	enum ts_cmsg_kind kind;
	struct ts_node_report report;           /* TS_CMSG_REPORT */
	struct ts_setting set;                  /* TS_CMSG_SET */
	uint32_t n_settings;                    /* TS_CMSG_SYNC */
	struct ts_setting settings[TS_SETTINGS_MAX];
	struct ts_snapshot snap;                /* CREATE; snap.domain_xml owned */
	struct ts_vm_facts vm;                  /* CREATE */
	uint64_t needed_bytes;                  /* CREATE */
	bool no_wait;                           /* CREATE */
	char snap_id[TS_SNAP_ID_LEN + 1];       /* FROZEN TAKEN ABORT DELETE */
	enum ts_consistency achieved;           /* FROZEN */
	char reason[40];                        /* ABORT */
	char message[256];                      /* ABORT */
	uint32_t n_digest;                      /* DIGEST */
	struct ts_digest_entry *digest;         /* DIGEST; owned */
	bool digest_more;                       /* DIGEST: not the last part */
	uint32_t digest_part;                   /* DIGEST: its index, from 0 */
};

/** Free what a message owns (snap.domain_xml, digest); the struct stays. */
void ts_wire_cluster_msg_release(struct ts_cluster_msg *m);

/** Storage for a Snapshot protobuf that borrows from a struct ts_snapshot. */
struct ts_wire_snap_pb {
	Twinsnap__Snapshot pb;
	char *volumes[TS_SNAP_MAX_VOLUMES];
	uint64_t bytes[TS_SNAP_MAX_VOLUMES];
	char *committed[TS_NODE_PAIR];
};

/**
 * Fill @out from @s; @out borrows @s's strings.  @committed_on names the
 * PMs that committed it (for IPC; may be NULL), @state "broken"/"normal".
 */
void ts_wire_snapshot_to_pb(const struct ts_snapshot *s, const char *const *committed_on,
			    size_t n_committed, struct ts_wire_snap_pb *out);

/** Validate and copy a decoded Snapshot (domain_xml duplicated); TS_EPROTO if bad. */
int ts_wire_snapshot_from_pb(const Twinsnap__Snapshot *pb, struct ts_snapshot *out);

/*
 * The IPC answer to `snapshot list`: a Reply whose body is a
 * SnapshotListReply, packed a row at a time.  Each row is packed once, by
 * protobuf-c, without its sizing pass (a bound reserves the room);
 * protobuf-c would size every row twice more to pack the Reply whole.  The
 * bytes are those of twinsnap__reply__pack() of the same Reply
 * (tests/check_wire).
 */
struct ts_wire_list_reply {
	uint8_t *buf;           /* room for the Reply's head, then the rows */
	size_t len, cap;
	uint8_t row_key;        /* SnapshotListReply.snapshots, from the descriptor */
	size_t row_bound;       /* bytes a row takes at most, but for two of its fields */
};

/** Start an empty reply; @hint: the bytes of rows expected (0 is fine). */
void ts_wire_list_reply_init(struct ts_wire_list_reply *w, size_t hint);

/**
 * Append @s as ts_wire_snapshot_to_pb() renders it, unless the reply has a
 * row already and the rows would then take more than @budget bytes: then
 * false, and nothing is added.
 */
bool ts_wire_list_reply_add(struct ts_wire_list_reply *w, const struct ts_snapshot *s,
			    const char *const *committed_on, size_t n_committed, size_t budget);

/**
 * End it with @more; returns the packed Reply (*@len bytes), which lives in
 * @w until ts_wire_list_reply_free().
 */
const uint8_t *ts_wire_list_reply_finish(struct ts_wire_list_reply *w, bool more, size_t *len);

void ts_wire_list_reply_free(struct ts_wire_list_reply *w);

/** Encode @m into a malloc'd buffer (*buf, *len); the caller frees *buf. */
int ts_wire_encode_cluster(const struct ts_cluster_msg *m, uint8_t **buf, size_t *len);

/** Decode @len bytes into @out.  0, or TS_EPROTO (out unchanged). */
int ts_wire_decode_cluster(const uint8_t *buf, size_t len, struct ts_cluster_msg *out);

/**
 * Point the fields of @pb (initialised here) at @s's data; @pb borrows, so
 * it must not outlive @s and must not be freed with free_unpacked.
 */
void ts_wire_summary_to_pb(const struct ts_drbd_summary *s, Twinsnap__DrbdSummary *pb);

/** Parse DRBD state spellings back into the enums (unknown → *_UNKNOWN). */
enum ts_drbd_role ts_wire_role_parse(const char *s);
enum ts_drbd_conn ts_wire_conn_parse(const char *s);
enum ts_drbd_disk ts_wire_disk_parse(const char *s);
enum ts_drbd_repl ts_wire_repl_parse(const char *s);

#endif
