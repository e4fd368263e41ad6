/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tserr — twinsnap's error codes.  Functions return 0 or -errno; conditions
 * errno cannot name use the project codes below -1000, and ts_strerror()
 * turns either kind into text.
 */
#ifndef TS_TSERR_H
#define TS_TSERR_H

enum ts_error {
	TS_EBASE = -1000,
	TS_ENOCLUSTER = -1001,   /* corosync / CPG not reachable */
	TS_EUNKNOWNNODE = -1002, /* node name not in the cluster's nodelist */
	TS_EPROTO = -1003,       /* a peer message we cannot decode */
	TS_ECONFIG = -1004,      /* configuration invalid */
};

/** Text for 0, -errno or a TS_E* code; never NULL, never to be freed. */
const char *ts_strerror(int err);

#endif
