/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_config — the twinsnapd configuration parser (conffile).  The input
 * is written to a temporary file (mkstemp in $TMPDIR, removed afterwards)
 * and loaded.  A loaded config must hold only values within the ranges
 * conffile.c enforces; a refused one must come back as NULL with a
 * one-line message.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conffile.h"
#include "core/nodestate.h"
#include "core/tserr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_config"
#include "fuzz_check.h"

/* Values pass g_utf8_validate and have no C0 control or DEL (set_value). */
static void check_text(const char *key, const char *v, size_t max)
{
	CHECK(v, "%s is NULL", key);
	CHECK(strlen(v) <= max, "%s is %zu bytes (max %zu)", key, strlen(v), max);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f, "%s holds byte 0x%02x", key, *p);
}

static void check_path(const char *key, const char *v)
{
	check_text(key, v, SIZE_MAX);
	CHECK(v[0] == '/', "%s '%s' is not absolute", key, v);
}

static void check_name(const char *key, const char *v)
{
	check_text(key, v, 63);
	CHECK(ts_node_name_valid(v), "%s '%s' is not a valid name", key, v);
}

static void check_range(const char *key, unsigned v, unsigned min, unsigned max)
{
	CHECK(v >= min && v <= max, "%s = %u, outside %u..%u", key, v, min, max);
}

static void check_config(const struct ts_config *c, const char *path)
{
	CHECK(c->path && strcmp(c->path, path) == 0, "path '%s'", c->path ? c->path : "(null)");
	check_path("state_dir", c->state_dir);
	check_name("ipc_name", c->ipc_name);
	check_text("admin_group", c->admin_group, 63);
	CHECK(c->log_level == LOG_ERR || c->log_level == LOG_WARNING ||
	      c->log_level == LOG_NOTICE || c->log_level == LOG_INFO || c->log_level == LOG_DEBUG,
	      "log_level %d", c->log_level);
	check_name("cpg_group", c->cpg_group);
	if (c->node_name)
		check_name("node_name", c->node_name);
	check_path("drbdsetup", c->drbdsetup);
	check_range("poll_interval_ms", c->poll_interval_ms, 50, 60000);
	check_range("restart_min_ms", c->restart_min_ms, 10, 60000);
	check_range("restart_max_ms", c->restart_max_ms, 10, 600000);
	CHECK(c->restart_max_ms >= c->restart_min_ms, "restart_max_ms %u < restart_min_ms %u",
	      c->restart_max_ms, c->restart_min_ms);
	check_text("libvirt_uri", c->libvirt_uri, 1023);
	check_name("store_backend", c->store_backend);
	check_path("store_dir", c->store_dir);
	check_range("freeze_timeout_ms", c->freeze_timeout_ms, 100, 50000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tmpdir = getenv("TMPDIR");
	struct ts_config *cfg = (struct ts_config *)&cfg;  /* must be overwritten */
	char *errmsg = (char *)&errmsg, *path;
	size_t plen, off = 0;
	int fd, rc;

	if (!tmpdir || !tmpdir[0])
		tmpdir = "/tmp";
	plen = strlen(tmpdir) + sizeof("/fuzz_config.XXXXXX");
	path = malloc(plen);
	if (!path)
		abort();
	snprintf(path, plen, "%s/fuzz_config.XXXXXX", tmpdir);
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "fuzz_config: mkstemp %s: %s\n", path, strerror(errno));
		abort();
	}
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "fuzz_config: write %s: %s\n", path, strerror(errno));
			unlink(path);
			abort();
		}
		off += (size_t)n;
	}
	close(fd);

	rc = ts_config_load(path, true, &cfg, &errmsg);
	unlink(path);
	if (rc == 0) {
		CHECK(cfg && !errmsg, "success with cfg %p, errmsg %p", (void *)cfg, (void *)errmsg);
		check_config(cfg, path);
		ts_config_free(cfg);
	} else {
		CHECK(rc < 0, "ts_config_load returned %d", rc);
		CHECK(!cfg, "failure %d left a config", rc);
		CHECK(errmsg, "failure %d without a message", rc);
		CHECK(!strchr(errmsg, '\n'), "message is not one line: '%s'", errmsg);
		free(errmsg);
	}
	free(path);
	return 0;
}
