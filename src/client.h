/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client — the request/response half of the CLI, shared by twinsnap and the
 * tests: connect to twinsnapd's libqb IPC service, send a protobuf Request,
 * wait for the Reply.
 */
#ifndef TS_CLIENT_H
#define TS_CLIENT_H

#include "twinsnap.pb-c.h"

struct ts_client;

/**
 * Connect, waiting up to @timeout_ms for the agent's handshake.
 * -EACCES/-EPERM when the agent refused us, -ETIMEDOUT when it did not
 * answer in time (stopped or wedged); other -errno: not reachable.
 */
int ts_client_connect(const char *service, int timeout_ms, struct ts_client **out);
void ts_client_close(struct ts_client *c);

/**
 * Send @rq and wait up to @timeout_ms for the reply (*reply, free with
 * twinsnap__reply__free_unpacked).  -ETIMEDOUT, -EPROTO, or -errno.
 */
int ts_client_call(struct ts_client *c, const Twinsnap__Request *rq, int timeout_ms,
		   Twinsnap__Reply **reply);

/*
 * ts_client_call() in two halves, so that a caller can work while the
 * agent answers (the CLI prints a list's page while the next is built).
 * One request at a time: every ts_client_send() is followed by one
 * ts_client_recv() before the next send.
 */

/** Send @rq.  0, -ENOMEM, or -errno (-EAGAIN: flow control, -ENOTCONN). */
int ts_client_send(struct ts_client *c, const Twinsnap__Request *rq);

/** Wait up to @timeout_ms for the reply to what was sent; as ts_client_call(). */
int ts_client_recv(struct ts_client *c, int timeout_ms, Twinsnap__Reply **reply);

/*
 * An arena to unpack replies into: protobuf-c allocates every string and
 * array of a reply on its own, and a page of a list holds thousands.  From
 * an arena they cost a few instructions each, and go all at once.
 */
struct ts_arena;

struct ts_arena *ts_arena_create(void);
void ts_arena_destroy(struct ts_arena *a);

/**
 * ts_client_recv(), unpacking into @a, which is emptied first: whatever
 * was unpacked into it before is gone.  Free nothing of *@reply (never
 * twinsnap__reply__free_unpacked()); it lives until @a is used again or
 * destroyed.
 */
int ts_client_recv_arena(struct ts_client *c, int timeout_ms, struct ts_arena *a,
			 Twinsnap__Reply **reply);

#endif
