/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent — wires the adapters to the core: CPG deliveries and membership,
 * DRBD changes and CLI requests come in as events; the agent applies them to
 * the replicated settings and node reports and executes what follows
 * (persist, multicast, reply).  twinsnapd.c owns main() and the loop.
 */
#ifndef TS_AGENT_H
#define TS_AGENT_H

#include <qb/qbloop.h>

#include "conffile.h"

struct ts_agent;

/** Start every adapter on @loop.  On failure returns -errno and sets *errmsg. */
int ts_agent_create(qb_loop_t *loop, const struct ts_config *cfg, struct ts_agent **out,
		    char **errmsg);
void ts_agent_destroy(struct ts_agent *a);

#endif
