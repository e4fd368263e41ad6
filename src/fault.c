/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fault points over libfiu (see fault.h).  libfiu's own remote control
 * (fiu_rc_fifo) starts a thread and re-creates its fifos in every forked
 * child through pthread_atfork, which would run between our fork() and
 * exec() of drbdsetup; so the agent reads the commands itself, from one fifo
 * polled by its main loop, and hands each line to fiu_rc_string().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fiu.h>
#include <fiu-control.h>
#include <qb/qbloop.h>
#include <qb/qblog.h>

#include "fault.h"
#include "util.h"

static struct {
	qb_loop_t *loop;
	int fd;
	char path[4096];
	char line[512];
	size_t len;
} ctl = { .fd = -1 };

/*
 * Every point, without the "twinsnap/" prefix.  A control line naming
 * anything else is refused, so a typo cannot silently test nothing.
 */
static const char *const points[] = {
	/* the snapshot protocol, in the order a snapshot meets them */
	"snap/create",          /* a CREATE delivered, before the precheck */
	"snap/quiesce",         /* primary: before the guest freeze and suspend-io */
	"snap/suspended",       /* primary: I/O suspended, before the drain */
	"snap/drained",         /* primary: drain done, before FROZEN is sent */
	"snap/frozen",          /* FROZEN delivered, before the local pieces */
	"snap/piece",           /* between two local pieces */
	"snap/send-taken",      /* pieces durable, before TAKEN is sent */
	"snap/taken",           /* a TAKEN delivered, before it is applied */
	"snap/commit",          /* before the row is written (normal, pending, ...) */
	"snap/resume",          /* primary: before resume-io */
	"snap/resumed",         /* primary: after resume-io, before the thaw */
	"snap/abort",           /* before an ABORT is sent */
	"snap/delete",          /* before a row's pieces are removed */
	/* calls out of the agent */
	"drbd/run/suspend-io",  /* fail: drbdsetup dies (SIGKILL) */
	"drbd/run/resume-io",
	"drbd/run/events2",     /* the drain's reads of in-flight writes */
	"hv/fsfreeze",          /* fail: the guest agent errors (hang: past its timeout) */
	"hv/fsthaw",
	"store/take",           /* fail: ENOSPC */
	"catalog/commit",       /* fail: EIO from the catalog's transaction */
	"cluster/send",         /* fail: the multicast is not accepted */
	NULL
};

static bool known_point(const char *name, size_t len)
{
	static const char prefix[] = "twinsnap/";

	if (len < sizeof(prefix) - 1 || strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return false;
	name += sizeof(prefix) - 1;
	len -= sizeof(prefix) - 1;
	for (size_t i = 0; points[i]; i++) {
		size_t n = strlen(points[i]);

		/* a trailing '*' is libfiu's wildcard */
		if (len > 0 && name[len - 1] == '*' && strncmp(points[i], name, len - 1) == 0)
			return true;
		if (n == len && strncmp(points[i], name, len) == 0)
			return true;
	}
	return false;
}

/* The name= value of a control line, or NULL. */
static const char *line_point(const char *line, size_t *len)
{
	const char *p = strstr(line, "name=");

	if (!p)
		return NULL;
	p += 5;
	*len = strcspn(p, ", \t");
	return p;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

bool ts_fault(const char *point)
{
	char name[128];
	unsigned long info;
	int action;

	snprintf(name, sizeof(name), "twinsnap/%s", point);
	action = fiu_fail(name);
	if (!action)
		return false;
	info = (unsigned long)(uintptr_t)fiu_failinfo();
	switch (action) {
	case TS_FAULT_STOP:
		qb_log(LOG_NOTICE, "fault point %s: stopping (SIGSTOP)", name);
		raise(SIGSTOP);
		qb_log(LOG_NOTICE, "fault point %s: continued", name);
		return false;
	case TS_FAULT_KILL:
		qb_log(LOG_NOTICE, "fault point %s: killing the agent (SIGKILL)", name);
		raise(SIGKILL);
		return false;
	case TS_FAULT_HANG:
		qb_log(LOG_NOTICE, "fault point %s: hanging %lu ms, then failing", name,
		       info ? info : 5000);
		sleep_ms(info ? info : 5000);
		return true;
	case TS_FAULT_DELAY:
		qb_log(LOG_NOTICE, "fault point %s: delaying %lu ms", name, info ? info : 1000);
		sleep_ms(info ? info : 1000);
		return false;
	default:
		qb_log(LOG_NOTICE, "fault point %s: failing", name);
		return true;
	}
}

static void apply_line(const char *line)
{
	char *err = NULL;
	int rc;

	const char *point;
	size_t len = 0;

	if (!line[0])
		return;
	point = line_point(line, &len);
	if (!point || !known_point(point, len)) {
		qb_log(LOG_WARNING, "fault control: '%s' rejected: no such fault point", line);
		return;
	}
	rc = fiu_rc_string(line, &err);
	if (rc == 0)
		qb_log(LOG_NOTICE, "fault control: %s", line);
	else
		qb_log(LOG_WARNING, "fault control: '%s' rejected: %s", line,
		       err ? err : "libfiu refused it");
}

static int on_control(int fd, int revents, void *data)
{
	char buf[256];
	ssize_t n;

	(void)revents;
	(void)data;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || ctl.len == sizeof(ctl.line) - 1) {
				ctl.line[ctl.len] = '\0';
				apply_line(ctl.line);
				ctl.len = 0;
				if (buf[i] == '\n')
					continue;
			}
			ctl.line[ctl.len++] = buf[i];
		}
	}
	return 0;
}

int ts_fault_init(void *loop, const char *path, char **errmsg)
{
	if (fiu_init(0) != 0) {
		*errmsg = ts_xasprintf("cannot initialise libfiu");
		return -EIO;
	}
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	if (mkfifo(path, 0600) < 0 && errno != EEXIST) {
		*errmsg = ts_xasprintf("cannot create the fault control fifo %s: %s", path,
				       strerror(errno));
		return -errno;
	}
	/* O_RDWR: the fifo never reports EOF when a writer goes away. */
	ctl.fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (ctl.fd < 0) {
		*errmsg = ts_xasprintf("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	ctl.loop = loop;
	if (qb_loop_poll_add(ctl.loop, QB_LOOP_HIGH, ctl.fd, POLLIN, NULL, on_control) != 0) {
		close(ctl.fd);
		ctl.fd = -1;
		*errmsg = ts_xasprintf("cannot watch %s", path);
		return -EIO;
	}
	qb_log(LOG_WARNING, "fault injection is compiled in: control fifo %s (not for production)",
	       path);
	return 0;
}

void ts_fault_fini(void)
{
	if (ctl.fd < 0)
		return;
	qb_loop_poll_del(ctl.loop, ctl.fd);
	close(ctl.fd);
	unlink(ctl.path);
	ctl.fd = -1;
}
