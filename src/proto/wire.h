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

#include <stddef.h>
#include <stdint.h>

#include "core/nodestate.h"
#include "core/settings.h"
#include "twinsnap.pb-c.h"

/** Bumped when a message changes meaning; peers with another value are ignored. */
#define TS_PROTOCOL_VERSION 1

enum ts_cmsg_kind { TS_CMSG_REPORT = 1, TS_CMSG_SET, TS_CMSG_SYNC };

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
};

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
