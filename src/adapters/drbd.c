/* SPDX-License-Identifier: GPL-2.0-or-later */
/* drbd — drbdsetup events2 follower with restart backoff (see drbd.h). */
#include "config.h"
#include "adapters/drbd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <qb/qblog.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "util.h"

extern char **environ;

#define LINE_MAX_BYTES 65536
#define STABLE_RUN_MS 5000      /* a run this long resets the backoff */
#define NS_PER_MS 1000000ULL
/*
 * How long a signalled drbdsetup gets to go.  One stuck in the kernel does
 * not die of SIGKILL until the kernel lets it go: real DRBD 8.4's resume-io
 * on a device that is not suspended waits, uninterruptibly and holding
 * DRBD's configuration mutex, until no application write is pending, and
 * a write can stay pending for ever (seen in the real-DRBD lane,
 * docs/reliability.md).  The agent must not wait for such a child: it
 * leaves it on the stuck list and reaps it when it is gone.
 */
#define END_GRACE_MS 500
#define MAX_STUCK 64

struct line_buf {
	char data[LINE_MAX_BYTES];
	size_t len;
	bool overflow;          /* discarding until the next newline */
};

struct ts_drbd_mon {
	qb_loop_t *loop;
	char *drbdsetup;
	unsigned poll_ms, restart_min_ms, restart_max_ms, backoff_ms;
	ts_drbd_changed_fn changed;
	void *ctx;

	struct ts_drbd_model *model;
	pid_t pid;
	int in_fd, out_fd, err_fd;
	uint64_t started_ms;
	unsigned long bad_lines;        /* in this run */
	struct line_buf out, err;
	qb_loop_timer_handle poll_timer, restart_timer;
	bool poll_armed, restart_armed;
};

static pid_t stuck_pids[MAX_STUCK];
static size_t n_stuck;

int ts_drbd_reap_stuck(void)
{
	size_t k = 0;

	for (size_t i = 0; i < n_stuck; i++)
		if (waitpid(stuck_pids[i], NULL, WNOHANG) == 0)
			stuck_pids[k++] = stuck_pids[i];
	n_stuck = k;
	return (int)n_stuck;
}

/*
 * Wait for @pid until @grace_ms have passed; true when it was reaped.  A
 * child that closed its output is usually not a zombie yet when the parent
 * wakes up: its pidfd becomes readable the moment it is, where a sleep
 * between two waitpid()s would add its length to every drbdsetup call
 * (5 ms each, several while a VM's I/O is held).
 */
static bool reaped_within(pid_t pid, int *status, unsigned grace_ms)
{
	uint64_t until = ts_now_ms() + grace_ms;
	int pfd = pidfd_open(pid, 0);
	bool reaped = false;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		uint64_t now;

		if (r == pid || (r < 0 && errno != EINTR)) {
			reaped = true;
			break;
		}
		now = ts_now_ms();
		if (now >= until)
			break;
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			poll(&p, 1, (int)(until - now));
		} else {
			usleep(1000);   /* no pidfd (kernel before 5.3) */
		}
	}
	if (pfd >= 0)
		close(pfd);
	return reaped;
}

/*
 * End a child: @sig, then (if it is still there after the grace) SIGKILL.
 * True when it was reaped (*status set); false when it outlived SIGKILL:
 * then it is on the stuck list and its process is left to the kernel.
 */
static bool end_child(pid_t pid, int sig, int *status)
{
	kill(pid, sig);
	if (reaped_within(pid, status, END_GRACE_MS))
		return true;
	if (sig != SIGKILL) {
		kill(pid, SIGKILL);
		if (reaped_within(pid, status, END_GRACE_MS))
			return true;
	}
	ts_drbd_reap_stuck();
	if (n_stuck < MAX_STUCK)
		stuck_pids[n_stuck++] = pid;
	qb_log(LOG_CRIT, "drbd: drbdsetup (pid %d) does not die of SIGKILL: it is stuck in the "
	       "kernel; DRBD on this PM needs attention (%zu such processes)", (int)pid, n_stuck);
	return false;
}

static void schedule_restart(struct ts_drbd_mon *m);
static void arm_poll(struct ts_drbd_mon *m);

static void close_fd(struct ts_drbd_mon *m, int *fd)
{
	if (*fd < 0)
		return;
	qb_loop_poll_del(m->loop, *fd);
	close(*fd);
	*fd = -1;
}

static void log_exit(const struct ts_drbd_mon *m, int status)
{
	if (WIFEXITED(status))
		qb_log(LOG_ERR, "drbd: %s events2 exited with status %d; restarting in %u ms",
		       m->drbdsetup, WEXITSTATUS(status), m->backoff_ms);
	else if (WIFSIGNALED(status))
		qb_log(LOG_ERR, "drbd: %s events2 killed by signal %d; restarting in %u ms",
		       m->drbdsetup, WTERMSIG(status), m->backoff_ms);
}

/* Tear the child down: it either exited (EOF) or we are shutting down. */
static void stop_child(struct ts_drbd_mon *m, bool expected)
{
	int status = 0;
	pid_t r;

	close_fd(m, &m->in_fd);
	close_fd(m, &m->out_fd);
	close_fd(m, &m->err_fd);
	if (m->pid <= 0)
		return;
	r = waitpid(m->pid, &status, WNOHANG);
	if (r == 0) {
		/* It closed stdout but lives on, or we are stopping it:
		 * drbdsetup ends promptly on SIGTERM, unless it is stuck. */
		r = end_child(m->pid, SIGTERM, &status) ? m->pid : 0;
	}
	if (!expected && r == m->pid) {
		if (ts_now_ms() - m->started_ms >= STABLE_RUN_MS)
			m->backoff_ms = m->restart_min_ms;
		log_exit(m, status);
	}
	m->pid = -1;
	if (m->poll_armed) {
		qb_loop_timer_del(m->loop, m->poll_timer);
		m->poll_armed = false;
	}
}

static void handle_line(struct ts_drbd_mon *m, char *line, bool *changed)
{
	bool was_complete = ts_drbd_model_dump_complete(m->model);
	int rc = ts_drbd_model_apply_line(m->model, line);
	char safe[256];

	if (rc == TS_E2_APPLIED) {
		*changed = true;
	} else if (rc == TS_E2_DUMP_DONE) {
		*changed = true;
		if (!was_complete)
			qb_log(LOG_INFO, "drbd: initial state read (%zu resources)",
			       ts_drbd_model_count(m->model));
		arm_poll(m);
	} else if (rc < 0) {
		/* Log the first few in full, then one in a hundred: a
		 * drbdsetup spewing garbage must not flood the journal. */
		m->bad_lines++;
		if (m->bad_lines <= 5 || m->bad_lines % 100 == 0) {
			ts_sanitize_for_log(line, safe, sizeof(safe));
			qb_log(LOG_ERR, "drbd: unparsable drbdsetup events2 output (%s, %lu so far): '%s'",
			       rc == -ENOSPC ? "limit reached" : "malformed", m->bad_lines, safe);
		}
	}
}

static void handle_err_line(struct ts_drbd_mon *m, char *line, bool *changed)
{
	char safe[256];

	ts_sanitize_for_log(line, safe, sizeof(safe));
	if (safe[0])
		qb_log(LOG_WARNING, "drbd: drbdsetup says: %s", safe);
}

/* Read what is there; split lines; returns false at EOF or error. */
static bool drain_fd(struct ts_drbd_mon *m, int fd, struct line_buf *b,
		     void (*on_line)(struct ts_drbd_mon *, char *, bool *), bool *changed)
{
	for (;;) {
		ssize_t n = read(fd, b->data + b->len, sizeof(b->data) - 1 - b->len);
		char *start, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		start = b->data;
		while ((nl = memchr(start, '\n', b->len - (size_t)(start - b->data)))) {
			*nl = '\0';
			if (!b->overflow)
				on_line(m, start, changed);
			b->overflow = false;
			start = nl + 1;
		}
		b->len -= (size_t)(start - b->data);
		memmove(b->data, start, b->len);
		if (b->len == sizeof(b->data) - 1) {
			if (!b->overflow)
				qb_log(LOG_ERR, "drbd: drbdsetup printed a line over %d bytes; "
				       "discarding it", LINE_MAX_BYTES);
			b->overflow = true;
			b->len = 0;
		}
	}
}

static int on_stdout(int32_t fd, int32_t revents, void *data)
{
	struct ts_drbd_mon *m = data;
	bool changed = false;
	bool alive = drain_fd(m, fd, &m->out, handle_line, &changed);

	if (!alive) {
		stop_child(m, false);
		ts_drbd_model_reset(m->model);
		changed = true;
		schedule_restart(m);
	}
	if (changed && m->changed)
		m->changed(m->ctx);
	return 0;
}

static int on_stderr(int32_t fd, int32_t revents, void *data)
{
	struct ts_drbd_mon *m = data;
	bool unused = false;

	if (!drain_fd(m, fd, &m->err, handle_err_line, &unused))
		close_fd(m, &m->err_fd);
	return 0;
}

static void on_poll_timer(void *data)
{
	struct ts_drbd_mon *m = data;
	static const char req[] = "n\n";

	m->poll_armed = false;
	if (m->in_fd < 0)
		return;
	/* A full pipe means drbdsetup has not read the last request yet;
	 * skipping this one is the right thing. */
	if (write(m->in_fd, req, sizeof(req) - 1) < 0 && errno != EAGAIN)
		qb_log(LOG_WARNING, "drbd: cannot ask drbdsetup for statistics: %s",
		       strerror(errno));
	arm_poll(m);
}

static void arm_poll(struct ts_drbd_mon *m)
{
	if (m->poll_armed || m->in_fd < 0)
		return;
	m->poll_armed = qb_loop_timer_add(m->loop, QB_LOOP_LOW, m->poll_ms * NS_PER_MS, m,
					  on_poll_timer, &m->poll_timer) == 0;
}

static int spawn(struct ts_drbd_mon *m)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0 || pipe(err) < 0)
		goto fail_pipes;
	pid = fork();
	if (pid < 0)
		goto fail_pipes;
	if (pid == 0) {
		char *const argv[] = { m->drbdsetup, (char *)"events2", (char *)"--statistics",
				       (char *)"--timestamps", (char *)"--poll", (char *)"all",
				       NULL };

		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	m->pid = pid;
	m->in_fd = in[1];
	m->out_fd = out[0];
	m->err_fd = err[0];
	ts_fd_nonblock_cloexec(m->in_fd);
	ts_fd_nonblock_cloexec(m->out_fd);
	ts_fd_nonblock_cloexec(m->err_fd);
	m->out.len = m->err.len = 0;
	m->out.overflow = m->err.overflow = false;
	m->started_ms = ts_now_ms();
	m->bad_lines = 0;
	qb_loop_poll_add(m->loop, QB_LOOP_MED, m->out_fd, POLLIN, m, on_stdout);
	qb_loop_poll_add(m->loop, QB_LOOP_LOW, m->err_fd, POLLIN, m, on_stderr);
	qb_log(LOG_INFO, "drbd: started %s events2 (pid %d)", m->drbdsetup, (int)pid);
	return 0;

fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -errno;
}

static void on_restart_timer(void *data)
{
	struct ts_drbd_mon *m = data;
	int rc;

	m->restart_armed = false;
	rc = spawn(m);
	if (rc < 0) {
		qb_log(LOG_ERR, "drbd: cannot start %s: %s", m->drbdsetup, strerror(-rc));
		schedule_restart(m);
	}
}

static void schedule_restart(struct ts_drbd_mon *m)
{
	if (m->restart_armed)
		return;
	m->restart_armed = qb_loop_timer_add(m->loop, QB_LOOP_MED,
					     (uint64_t)m->backoff_ms * NS_PER_MS, m,
					     on_restart_timer, &m->restart_timer) == 0;
	m->backoff_ms = m->backoff_ms * 2 > m->restart_max_ms ? m->restart_max_ms
							      : m->backoff_ms * 2;
}

/* Read what @fd has; true once it is at its end (or broken), false on EAGAIN. */
static bool read_some(int fd, char **buf, size_t *len, size_t *cap)
{
	for (;;) {
		ssize_t n;

		if (*cap - *len < 4096) {
			*cap = *cap ? *cap * 2 : 8192;
			*buf = realloc(*buf, *cap);
			if (!*buf)
				abort();
			(*buf)[*len] = '\0';    /* a string even if nothing comes */
		}
		n = read(fd, *buf + *len, *cap - *len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 || errno != EAGAIN;
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

/* One short drbdsetup command on its way (ts_drbd_run, ts_drbd_run_each). */
struct run_child {
	pid_t pid;
	int out_fd, err_fd;
	char *obuf, *ebuf;
	size_t olen, ocap, elen, ecap;
	const char *verb;
};

static void child_close(struct run_child *c)
{
	if (c->out_fd >= 0)
		close(c->out_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->out_fd = c->err_fd = -1;
}

/*
 * posix_spawn, not fork: glibc's clones the agent without copying its page
 * tables (vfork semantics), which a fork of an agent with a large catalog
 * does on every call, several of them while a VM's I/O is held.  The child
 * gets /dev/null for stdin, @out_fd and @err_fd, no other descriptor, and
 * SIGPIPE's default; an exec failure comes back as posix_spawn's error.
 */
static int spawn_child(const char *const *argv, int out_fd, int err_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl, none;
	int rc;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -ENOMEM;
	}
	rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &dfl);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (rc == 0)
		rc = posix_spawn(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

static int child_start(const char *drbdsetup, const char *const *args, struct run_child *c)
{
	/* fault point: this drbdsetup dies by SIGKILL before doing anything */
	static const char *const dies_argv[] = { "/bin/sh", "-c", "kill -KILL $$", NULL };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	const char *argv[32];
	int nargs = 0, rc = 0;
	char point[64];

	memset(c, 0, sizeof(*c));
	c->out_fd = c->err_fd = -1;
	c->pid = -1;
	c->verb = args[0] ? args[0] : "";
	argv[nargs++] = drbdsetup;
	for (; args[nargs - 1] && nargs < 31; nargs++)
		argv[nargs] = args[nargs - 1];
	argv[nargs] = NULL;
	snprintf(point, sizeof(point), "drbd/run/%s", c->verb);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = spawn_child(ts_fault(point) ? dies_argv : argv, po[1], pe[1], &c->pid);
	if (rc < 0) {
		c->pid = -1;
		goto fail;
	}
	close(po[1]);
	close(pe[1]);
	c->out_fd = po[0];
	c->err_fd = pe[0];
	ts_fd_nonblock_cloexec(c->out_fd);
	ts_fd_nonblock_cloexec(c->err_fd);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return rc;
}

/* Collect a started child's output and status, killing it at @deadline. */
static int child_finish(const char *drbdsetup, struct run_child *c, uint64_t deadline,
			int timeout_ms, char **out, char **errmsg)
{
	int status = 0, rc = 0;

	for (;;) {
		struct pollfd fds[2] = { { c->out_fd, POLLIN, 0 }, { c->err_fd, POLLIN, 0 } };
		int64_t left = (int64_t)(deadline - ts_now_ms());

		if (left <= 0 || (uint64_t)left > (uint64_t)timeout_ms) {
			bool gone = end_child(c->pid, SIGKILL, &status);

			rc = -ETIMEDOUT;
			*errmsg = ts_xasprintf("%s %s did not finish within %d ms%s", drbdsetup,
					       c->verb, timeout_ms,
					       gone ? "" : " and outlives SIGKILL (stuck in the kernel)");
			goto out;
		}
		if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
			break;
		read_some(c->out_fd, &c->obuf, &c->olen, &c->ocap);
		read_some(c->err_fd, &c->ebuf, &c->elen, &c->ecap);
		if (fds[0].revents & (POLLHUP | POLLERR) && !(fds[0].revents & POLLIN))
			break;
	}
	read_some(c->err_fd, &c->ebuf, &c->elen, &c->ecap);
	/* it closed its output: it ends now, unless it is stuck */
	if (!reaped_within(c->pid, &status, (unsigned)timeout_ms) &&
	    !end_child(c->pid, SIGKILL, &status)) {
		rc = -ETIMEDOUT;
		*errmsg = ts_xasprintf("%s %s closed its output but does not end (stuck in the "
				       "kernel)", drbdsetup, c->verb);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char line[200] = "";

		if (c->ebuf)
			ts_sanitize_for_log(strtok(c->ebuf, "\n") ? c->ebuf : "", line, sizeof(line));
		*errmsg = ts_xasprintf("%s %s failed (%s %d)%s%s", drbdsetup, c->verb,
				       WIFEXITED(status) ? "exit" : "signal",
				       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				       line[0] ? ": " : "", line);
		rc = -EIO;
	}
out:
	child_close(c);
	if (rc == 0 && out)
		*out = c->obuf ? c->obuf : ts_xstrdup("");
	else
		free(c->obuf);
	free(c->ebuf);
	c->obuf = c->ebuf = NULL;
	return rc;
}

int ts_drbd_run(const char *drbdsetup, const char *const *args, int timeout_ms, char **out,
		char **errmsg)
{
	uint64_t deadline = ts_now_ms() + (uint64_t)timeout_ms;
	struct run_child c;
	int rc = child_start(drbdsetup, args, &c);

	if (rc < 0) {
		*errmsg = ts_xasprintf("cannot run %s: %s", drbdsetup, strerror(-rc));
		return rc;
	}
	return child_finish(drbdsetup, &c, deadline, timeout_ms, out, errmsg);
}

/* ---- on the agent's loop ------------------------------------------------------------ */

struct ts_drbd_job {
	qb_loop_t *loop;
	char *drbdsetup;
	struct run_child c;
	uint64_t deadline;
	int timeout_ms;
	qb_loop_timer_handle timer;
	bool polled, timed;
	ts_drbd_job_fn done;
	void *data;
};

/*
 * The child has closed its stdout (it is exiting), or its deadline has
 * passed (child_finish kills it then): collect it, report, free.  Only
 * stdout is watched: a drbdsetup's stderr is a line or two, read here.
 */
static void job_end(struct ts_drbd_job *j, bool report)
{
	char *out = NULL, *err = NULL;
	int rc;

	if (j->polled)
		qb_loop_poll_del(j->loop, j->c.out_fd);
	if (j->timed)
		qb_loop_timer_del(j->loop, j->timer);
	j->polled = j->timed = false;
	rc = child_finish(j->drbdsetup, &j->c, j->deadline, j->timeout_ms, &out, &err);
	if (report && j->done)
		j->done(j->data, rc, out, err);
	free(out);
	free(err);
	free(j->drbdsetup);
	free(j);
}

static int on_job_out(int32_t fd, int32_t revents, void *data)
{
	struct ts_drbd_job *j = data;

	if (read_some(fd, &j->c.obuf, &j->c.olen, &j->c.ocap))
		job_end(j, true);
	return 0;
}

static void on_job_deadline(void *data)
{
	struct ts_drbd_job *j = data;

	j->timed = false;
	job_end(j, true);
}

int ts_drbd_job_start(qb_loop_t *loop, const char *drbdsetup, const char *const *args,
		      int timeout_ms, ts_drbd_job_fn done, void *data, struct ts_drbd_job **out)
{
	struct ts_drbd_job *j = ts_xcalloc(1, sizeof(*j));
	int rc = child_start(drbdsetup, args, &j->c);

	if (rc < 0) {
		free(j);
		return rc;
	}
	j->loop = loop;
	j->drbdsetup = ts_xstrdup(drbdsetup);
	j->timeout_ms = timeout_ms;
	j->deadline = ts_now_ms() + (uint64_t)timeout_ms;
	j->done = done;
	j->data = data;
	j->polled = qb_loop_poll_add(loop, QB_LOOP_HIGH, j->c.out_fd, POLLIN, j,
				     on_job_out) == 0;
	j->timed = qb_loop_timer_add(loop, QB_LOOP_HIGH, (uint64_t)timeout_ms * NS_PER_MS, j,
				     on_job_deadline, &j->timer) == 0;
	if (!j->polled || !j->timed) {
		job_end(j, false);      /* waits for it: the caller sees the failure */
		return -ENOMEM;
	}
	*out = j;
	return 0;
}

void ts_drbd_job_reap(struct ts_drbd_job *j)
{
	if (j)
		job_end(j, false);
}

int ts_drbd_run_each(const char *drbdsetup, const char *verb, const int *minors, size_t n,
		     int timeout_ms, bool *failed, char **errmsg)
{
	uint64_t deadline = ts_now_ms() + (uint64_t)timeout_ms;
	struct run_child *c = ts_xcalloc(n ? n : 1, sizeof(*c));
	int first = 0;

	/* All at once: a snapshot's I/O is held for the slowest, not the sum. */
	for (size_t i = 0; i < n; i++) {
		char minor[16];
		const char *args[] = { verb, minor, NULL };
		int rc;

		snprintf(minor, sizeof(minor), "%d", minors[i]);
		rc = child_start(drbdsetup, args, &c[i]);
		failed[i] = rc < 0;
		if (rc < 0 && !first) {
			first = rc;
			*errmsg = ts_xasprintf("cannot run %s %s %s: %s", drbdsetup, verb, minor,
					       strerror(-rc));
		}
	}
	for (size_t i = 0; i < n; i++) {
		char *err = NULL;
		int rc;

		if (failed[i])
			continue;
		rc = child_finish(drbdsetup, &c[i], deadline, timeout_ms, NULL, &err);
		failed[i] = rc < 0;
		if (rc < 0 && !first) {
			first = rc;
			*errmsg = err;
			err = NULL;
		}
		free(err);
	}
	free(c);
	return first;
}

static void drain_of(const struct ts_drbd_resource *res, struct ts_drbd_drain *out)
{
	memset(out, 0, sizeof(*out));
	out->replicating = res->n_connections > 0;
	if (!out->replicating)
		snprintf(out->why, sizeof(out->why), "no connection to a peer");
	for (size_t i = 0; i < res->n_connections; i++) {
		const struct ts_drbd_connection *c = &res->connections[i];

		out->in_flight += c->ap_in_flight;
		if (c->state != TS_CONN_CONNECTED && out->replicating) {
			out->replicating = false;
			snprintf(out->why, sizeof(out->why), "connection to %s is %s",
				 c->conn_name[0] ? c->conn_name : "the peer", ts_drbd_conn_str(c->state));
		}
	}
	for (size_t i = 0; i < res->n_peer_devices; i++) {
		const struct ts_drbd_peer_device *p = &res->peer_devices[i];

		out->in_flight += p->pending + p->unacked;
		if (!out->replicating)
			continue;
		/* UNKNOWN: a drbdsetup that does not print the field */
		if (p->replication != TS_REPL_UNKNOWN && p->replication != TS_REPL_ESTABLISHED) {
			out->replicating = false;
			snprintf(out->why, sizeof(out->why), "volume %d replication is %s", p->volume,
				 ts_drbd_repl_str(p->replication));
		} else if (p->peer_disk != TS_DISK_UNKNOWN && p->peer_disk != TS_DISK_UPTODATE) {
			out->replicating = false;
			snprintf(out->why, sizeof(out->why), "volume %d peer disk is %s", p->volume,
				 ts_drbd_disk_str(p->peer_disk));
		} else if (p->out_of_sync) {
			out->replicating = false;
			snprintf(out->why, sizeof(out->why), "volume %d has %llu KiB out of sync",
				 p->volume, (unsigned long long)p->out_of_sync);
		}
	}
}

/* DRBD's view of all resources, read fresh with one `drbdsetup events2 --now`. */
static int read_model(const char *drbdsetup, int timeout_ms, struct ts_drbd_model **model,
		      char **errmsg)
{
	const char *args[] = { "events2", "--now", NULL };
	char *out = NULL;
	int rc = ts_drbd_run(drbdsetup, args, timeout_ms, &out, errmsg);

	if (rc < 0)
		return rc;
	*model = ts_drbd_model_create();
	ts_drbd_model_apply_text(*model, out);
	free(out);
	return 0;
}

int ts_drbd_drain_eval(const struct ts_drbd_model *model, const char *const *resources, size_t n,
		       struct ts_drbd_drain *drain, char **errmsg)
{
	int rc = 0;

	memset(drain, 0, sizeof(*drain));
	drain->replicating = true;
	for (size_t i = 0; i < n; i++) {
		const struct ts_drbd_resource *res = ts_drbd_model_find(model, resources[i]);
		struct ts_drbd_drain one;

		if (!res) {
			*errmsg = ts_xasprintf("drbdsetup does not know resource %s", resources[i]);
			rc = -ENOENT;
			break;
		}
		drain_of(res, &one);
		drain->in_flight += one.in_flight;
		if (!one.replicating && drain->replicating) {
			drain->replicating = false;
			snprintf(drain->why, sizeof(drain->why), "%s: %.100s", resources[i], one.why);
		}
	}
	return rc;
}

int ts_drbd_minors_suspended(const char *drbdsetup, const int *minors, size_t n, int timeout_ms,
			     bool *suspended, char **errmsg)
{
	struct ts_drbd_model *model;
	int rc = read_model(drbdsetup, timeout_ms, &model, errmsg);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		suspended[i] = true;    /* a minor DRBD does not list: let resume-io say so */
		for (size_t r = 0; r < ts_drbd_model_count(model); r++) {
			const struct ts_drbd_resource *res = ts_drbd_model_at(model, r);

			for (size_t d = 0; d < res->n_devices; d++)
				if (res->devices[d].minor == minors[i])
					suspended[i] = res->suspended;
		}
	}
	ts_drbd_model_destroy(model);
	return 0;
}

int ts_drbd_mon_create(qb_loop_t *loop, const struct ts_drbd_mon_config *cfg,
		       ts_drbd_changed_fn changed, void *ctx, struct ts_drbd_mon **out)
{
	struct ts_drbd_mon *m = ts_xcalloc(1, sizeof(*m));
	int rc;

	m->loop = loop;
	m->drbdsetup = ts_xstrdup(cfg->drbdsetup);
	m->poll_ms = cfg->poll_interval_ms;
	m->restart_min_ms = cfg->restart_min_ms;
	m->restart_max_ms = cfg->restart_max_ms;
	m->backoff_ms = cfg->restart_min_ms;
	m->changed = changed;
	m->ctx = ctx;
	m->model = ts_drbd_model_create();
	m->pid = -1;
	m->in_fd = m->out_fd = m->err_fd = -1;
	rc = spawn(m);
	if (rc < 0) {
		qb_log(LOG_ERR, "drbd: cannot start %s: %s", m->drbdsetup, strerror(-rc));
		schedule_restart(m);
	}
	*out = m;
	return 0;
}

void ts_drbd_mon_destroy(struct ts_drbd_mon *m)
{
	if (!m)
		return;
	if (m->restart_armed)
		qb_loop_timer_del(m->loop, m->restart_timer);
	stop_child(m, true);
	ts_drbd_model_destroy(m->model);
	free(m->drbdsetup);
	free(m);
}

const struct ts_drbd_model *ts_drbd_mon_model(const struct ts_drbd_mon *m)
{
	return m->model;
}

bool ts_drbd_mon_ready(const struct ts_drbd_mon *m)
{
	return m->pid > 0 && ts_drbd_model_dump_complete(m->model);
}
