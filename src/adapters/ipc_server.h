/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ipc_server — the libqb IPC endpoint the twinsnap CLI talks to.  Admits
 * root and members of the configured admin group only (checked on connect,
 * refused connections logged).  A request is a qb_ipc_request_header plus a
 * protobuf Request; the reply is a qb_ipc_response_header plus a protobuf
 * Reply.  Replies may be sent later than the request arrived (for example
 * once a CPG message has been delivered): the handler gets a held request
 * and must answer it exactly once.
 */
#ifndef TS_IPC_SERVER_H
#define TS_IPC_SERVER_H

#include <qb/qbloop.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The largest message either way.  libqb sizes each connection's three
 * shared-memory rings by it, and allocates and clears them when the
 * connection is made: ~4 ms of every CLI call at 1 MiB, ~2 ms at 512 KiB,
 * ~1.5 at 256 KiB.  A list is paged well inside it, and smaller pages cost
 * a list of 100,000 rows more round trips: ~340 ms at 1 MiB, ~370 at
 * 512 KiB, ~440 at 256 KiB (make bench's lab, 2 cores).
 */
#define TS_IPC_MAX_MSG (512 * 1024)
#define TS_IPC_MSG_REQUEST 1

struct ts_ipc_server;
struct ts_ipc_req;

/** @payload/@len: the protobuf bytes (valid only during the call). */
typedef void (*ts_ipc_request_fn)(void *ctx, struct ts_ipc_req *req,
				  const uint8_t *payload, size_t len);

int ts_ipc_server_create(qb_loop_t *loop, const char *name, const char *admin_group,
			 ts_ipc_request_fn handler, void *ctx, struct ts_ipc_server **out);
void ts_ipc_server_destroy(struct ts_ipc_server *s);

/** Answer @req with @len bytes and release it.  0 or -errno (client gone). */
int ts_ipc_reply(struct ts_ipc_req *req, const uint8_t *payload, size_t len);

#endif
