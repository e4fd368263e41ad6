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

/** -EACCES/-EPERM when the agent refused us; other -errno: not reachable. */
int ts_client_connect(const char *service, struct ts_client **out);
void ts_client_close(struct ts_client *c);

/**
 * Send @rq and wait up to @timeout_ms for the reply (*reply, free with
 * twinsnap__reply__free_unpacked).  -ETIMEDOUT, -EPROTO, or -errno.
 */
int ts_client_call(struct ts_client *c, const Twinsnap__Request *rq, int timeout_ms,
		   Twinsnap__Reply **reply);

#endif
