/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tserr — text for twinsnap's error codes (see tserr.h). */
#include "config.h"
#include "core/tserr.h"

#include <string.h>

const char *ts_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case TS_ENOCLUSTER: return "cluster (corosync CPG) not reachable";
	case TS_EUNKNOWNNODE: return "unknown node";
	case TS_EPROTO: return "malformed cluster message";
	case TS_ECONFIG: return "invalid configuration";
	default: break;
	}
	if (err < 0 && err > TS_EBASE)
		return strerror(-err);
	return "unknown error";
}
