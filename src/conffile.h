/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conffile — twinsnapd's configuration file (GKeyFile syntax, see
 * twinsnap.conf(5)).  Loading validates every value and rejects unknown
 * groups and keys, so a typo is an error at start-up, not a silent default.
 */
#ifndef TS_CONFFILE_H
#define TS_CONFFILE_H

#include <stdbool.h>

#ifndef TS_SYSCONFDIR
#define TS_SYSCONFDIR "/etc"
#endif
#define TS_DEFAULT_CONFIG TS_SYSCONFDIR "/twinsnap/twinsnap.conf"

struct ts_config {
	char *path;             /* the file read, or NULL when defaults only */
	char *state_dir;
	char *ipc_name;
	char *admin_group;      /* "" = root only */
	int log_level;          /* LOG_ERR .. LOG_DEBUG */
	char *cpg_group;
	char *node_name;        /* NULL = take it from corosync's nodelist */
	char *drbdsetup;
	unsigned poll_interval_ms;
	unsigned restart_min_ms;
	unsigned restart_max_ms;
	char *libvirt_uri;
	char *store_backend;
	char *store_dir;
	unsigned freeze_timeout_ms;
	bool drain;             /* wait for in-flight writes; "no" only to demonstrate why */
	unsigned max_holds;     /* snapshots holding I/O at once on this PM; more wait */
};

/**
 * Load @path into a new config (*out, free with ts_config_free).  When
 * @must_exist is false a missing file gives the defaults.  On failure returns
 * -errno or TS_ECONFIG and sets *errmsg (malloc'd, one line naming the group,
 * key and value at fault); *out is then NULL.
 */
int ts_config_load(const char *path, bool must_exist, struct ts_config **out, char **errmsg);
void ts_config_free(struct ts_config *cfg);

#endif
