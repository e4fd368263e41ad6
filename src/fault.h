/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault points: named places in the agent where a test can make things go
 * wrong on purpose (libfiu).  They exist only in a build configured with
 * --enable-fault-injection; in every other build ts_fault() is a constant
 * false and the compiler removes the fault paths entirely.
 *
 * A point is enabled at run time by writing a libfiu remote-control line to
 * the agent's control fifo (STATE_DIR/fault-control), e.g.
 *
 *     enable name=twinsnap/snap/drained,failnum=2,onetime
 *
 * The failnum says what the point does when it fires (enum ts_fault_action).
 * The points are listed in fault.c (ts_fault_points) and docs/reliability.md.
 */
#ifndef TS_FAULT_H
#define TS_FAULT_H

#include <stdbool.h>

#include "config.h"

struct qb_loop;

enum ts_fault_action {
	TS_FAULT_FAIL = 1,      /* the caller fails the way the point says */
	TS_FAULT_STOP = 2,      /* SIGSTOP itself here; a test resumes it (SIGCONT) or kills it */
	TS_FAULT_KILL = 3,      /* SIGKILL itself here */
	TS_FAULT_HANG = 4,      /* sleep failinfo ms (default 5000), then fail */
	TS_FAULT_DELAY = 5,     /* sleep failinfo ms (default 1000), then go on */
};

#ifdef TS_FAULT_INJECTION
/*
 * Initialise libfiu and open the control fifo @path in the loop.  Lines read
 * from it are libfiu remote-control commands; each is applied and logged.
 */
int ts_fault_init(void *loop, const char *path, char **errmsg);
void ts_fault_fini(void);
/* @point fires: STOP, KILL and DELAY act here; true means "fail now". */
bool ts_fault(const char *point);
#else
static inline int ts_fault_init(void *loop, const char *path, char **errmsg)
{
	(void)loop;
	(void)path;
	(void)errmsg;
	return 0;
}
static inline void ts_fault_fini(void)
{
}
static inline bool ts_fault(const char *point)
{
	(void)point;
	return false;
}
#endif

#endif
