/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent_snap — the shell around the snapshot state machine: turns delivered
 * CPG messages, membership changes, DRBD role changes and timers into
 * snapfsm events, and executes the effects the machine returns (multicast,
 * suspend/resume I/O through drbdsetup, guest fsfreeze through libvirt,
 * reflink pieces through the store, rows and events through the catalog,
 * answers to the waiting CLI).  The protocol itself is in core/snapfsm.c and
 * docs/protocol.md; nothing here decides, it only does.
 *
 * I/O is held only between an intent recorded in the catalog and the
 * resume that clears it, so a restarted agent resumes what a crash left
 * suspended before it does anything else.
 */
#include "config.h"
#include "agent_int.h"

#include <errno.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapters/hv.h"
#include "core/precheck.h"
#include "core/snapfsm.h"
#include "core/tserr.h"
#include "proto/wire.h"
#include "fault.h"
#include "util.h"

#define NS_PER_MS 1000000ULL
#define DRBDSETUP_TIMEOUT_MS 5000
#define DRAIN_POLL_MS 5
#define GUARD_GRACE_MS 500      /* the freeze guard acts at the freeze timeout + this */
#define GUARD_ASK_MS 250        /* how long the guard waits for DRBD's answer */
#define STORE_REFRESH_MS 2000

/* A step's effects on their way: where they are, and what the step still owes. */
struct ts_fx_run {
	struct ts_fx_list fx;
	size_t next;                    /* the first not run yet */
	struct ts_snap_event follow;    /* TAKE_PIECES: the PIECES event it makes */
	bool have_follow, start_q;
};

/* ---- in-flight bookkeeping ------------------------------------------------ */

static struct ts_inflight *inflight_find(struct ts_agent *a, const char *id)
{
	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++)
		if (a->inflight[i].used && strcmp(a->inflight[i].row.id, id) == 0)
			return &a->inflight[i];
	return NULL;
}

static struct ts_inflight *inflight_add(struct ts_agent *a, const struct ts_snapshot *row)
{
	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++) {
		struct ts_inflight *f = &a->inflight[i];

		if (f->used)
			continue;
		memset(f, 0, sizeof(*f));
		f->used = true;
		f->guard_fd = -1;
		f->agent = a;
		ts_snapshot_copy(&f->row, row);
		return f;
	}
	return NULL;
}

static void disarm(struct ts_agent *a, qb_loop_timer_handle h, bool *armed)
{
	if (*armed)
		qb_loop_timer_del(a->loop, h);
	*armed = false;
}

static void jobs_reap(struct ts_inflight *f);
static void release_hold_slot(struct ts_agent *a, struct ts_inflight *f);

/* Events delivered while the row's effects wait are dropped with it, as
 * any message for a snapshot no longer in flight is. */
static void inflight_drop(struct ts_inflight *f)
{
	jobs_reap(f);
	disarm(f->agent, f->freeze_timer, &f->freeze_armed);
	disarm(f->agent, f->drain_timer, &f->drain_armed);
	ts_snapshot_release(&f->row);
	release_hold_slot(f->agent, f);
	free(f->paused);
	free(f->deferred);
	f->paused = NULL;
	f->deferred = NULL;
	f->n_deferred = f->cap_deferred = 0;
	f->used = false;
}

/* ---- drbdsetup on the loop (primary) ------------------------------------------- */

/*
 * A snapshot's suspend-io calls and drain reads run as jobs on the agent's
 * loop (one per volume, all at once), so that while DRBD answers the loop
 * serves the CLI, CPG and the other snapshots.  When the last job of a
 * stage is in, f->jobs_next goes on.  Anything that resumes or ends the
 * snapshot first waits for the jobs still running: a resume-io must not
 * overtake a suspend-io.
 */
static void jobs_reset(struct ts_inflight *f)
{
	for (size_t i = 0; i < TS_SNAP_MAX_VOLUMES; i++) {
		free(f->jobs[i].out);
		f->jobs[i].out = NULL;
		f->jobs[i].job = NULL;
	}
	free(f->jobs_err);
	f->jobs_err = NULL;
	f->jobs_rc = 0;
	f->jobs_pending = 0;
	f->jobs_next = NULL;
}

static void jobs_reap(struct ts_inflight *f)
{
	for (size_t i = 0; i < TS_SNAP_MAX_VOLUMES; i++) {
		struct ts_drbd_job *j = f->jobs[i].job;

		f->jobs[i].job = NULL;
		ts_drbd_job_reap(j);
	}
	jobs_reset(f);
}

static void jobs_failed(struct ts_inflight *f, int rc, const char *err)
{
	if (f->jobs_rc < 0)
		return;
	f->jobs_rc = rc;
	f->jobs_err = ts_xstrdup(err ? err : ts_strerror(rc));
}

/* One job fewer to wait for; the last one moves the stage on. */
static void jobs_settle(struct ts_inflight *f)
{
	if (--f->jobs_pending == 0 && f->jobs_next)
		f->jobs_next(f);
}

static void on_job_done(void *data, int rc, const char *out, const char *err)
{
	struct ts_snap_job *sj = data;

	sj->job = NULL;
	if (rc < 0)
		jobs_failed(sj->f, rc, err);
	else
		sj->out = ts_xstrdup(out ? out : "");
	jobs_settle(sj->f);
}

/* Starts `drbdsetup ARGS[i]` for i < n (each NULL-terminated), then @next. */
static void jobs_start(struct ts_agent *a, struct ts_inflight *f, const char *const (*args)[5],
		       size_t n, void (*next)(struct ts_inflight *f))
{
	jobs_reap(f);
	f->jobs_next = next;
	f->jobs_pending = 1;            /* held until all are started */
	for (size_t i = 0; i < n; i++) {
		int rc;

		f->jobs[i].f = f;
		f->jobs_pending++;
		rc = ts_drbd_job_start(a->loop, a->cfg->drbdsetup, args[i], DRBDSETUP_TIMEOUT_MS,
				       on_job_done, &f->jobs[i], &f->jobs[i].job);
		if (rc < 0) {
			char msg[256];

			f->jobs[i].job = NULL;
			snprintf(msg, sizeof(msg), "cannot run %s %s: %s", a->cfg->drbdsetup,
				 args[i][0], ts_strerror(rc));
			jobs_failed(f, rc, msg);
			f->jobs_pending--;
		}
	}
	jobs_settle(f);
}

/* `drbdsetup VERB MINOR` for each of f's minors, as jobs, then @next. */
static void jobs_start_minors(struct ts_agent *a, struct ts_inflight *f, const char *verb,
			      void (*next)(struct ts_inflight *f))
{
	char minor[TS_SNAP_MAX_VOLUMES][16];
	const char *args[TS_SNAP_MAX_VOLUMES][5];

	for (size_t i = 0; i < f->n_minors; i++) {
		snprintf(minor[i], sizeof(minor[i]), "%d", f->minors[i]);
		args[i][0] = verb;
		args[i][1] = minor[i];
		args[i][2] = NULL;
	}
	jobs_start(a, f, (const char *const (*)[5])args, f->n_minors, next);
}

/* ---- I/O hold and release (primary) ------------------------------------------- */

/*
 * The freeze guard: a detached process started before I/O is suspended.
 * It waits on a pipe from the agent.  A byte means "resumed, stand down";
 * end-of-file (the agent died, even by SIGKILL) or the freeze timeout plus
 * half a second means "resume now" — so held I/O is bounded whatever
 * happens to the agent (S5: within the freeze timeout plus a second, the
 * resume-io calls included), not only once it is restarted.  It resumes
 * only the minors DRBD shows suspended (the agent may have died before
 * its suspend-io, or resumed just now; see still_suspended), all of them
 * if DRBD does not answer within GUARD_ASK_MS.
 */
static void guard_main(int rfd, const char *drbdsetup, const int *minors, size_t n,
		       unsigned timeout_ms)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };
	bool suspended[TS_SNAP_MAX_VOLUMES];
	char *err = NULL;
	char c;

	if (poll(&p, 1, (int)timeout_ms + GUARD_GRACE_MS) == 1 && read(rfd, &c, 1) == 1)
		_exit(0);
	if (ts_drbd_minors_suspended(drbdsetup, minors, n, GUARD_ASK_MS, suspended, &err) < 0)
		for (size_t i = 0; i < n; i++)
			suspended[i] = true;
	for (size_t i = 0; i < n; i++) {
		char minor[16];
		pid_t pid;

		if (!suspended[i])
			continue;
		snprintf(minor, sizeof(minor), "%d", minors[i]);
		pid = fork();
		if (pid == 0) {
			execl(drbdsetup, drbdsetup, "resume-io", minor, (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(0);
}

static int guard_start(struct ts_agent *a, struct ts_inflight *f, const int *minors, size_t n)
{
	int fds[2];
	pid_t pid;

	f->guard_fd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		/* Its own session, so a signal to the agent's group spares it. */
		close(fds[1]);
		setsid();
		for (int fd = 3; fd < 1024; fd++)
			if (fd != fds[0])
				close(fd);
		/* the agent's log targets are gone with its descriptors */
		for (int t = QB_LOG_TARGET_START; t < QB_LOG_TARGET_MAX; t++)
			qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_FALSE);
		guard_main(fds[0], a->cfg->drbdsetup, minors, n, a->cfg->freeze_timeout_ms);
	}
	close(fds[0]);
	f->guard_fd = fds[1];
	f->guard_pid = pid;
	return 0;
}

/* Reap released guards; they exit as soon as they read the release byte. */
static void reap_guards(struct ts_agent *a)
{
	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++)
		if (a->reap[i] > 0 && waitpid(a->reap[i], NULL, WNOHANG) != 0)
			a->reap[i] = 0;
}

static void guard_release(struct ts_agent *a, struct ts_inflight *f)
{
	if (f->guard_fd < 0)
		return;
	(void)!write(f->guard_fd, "r", 1);
	close(f->guard_fd);
	f->guard_fd = -1;
	if (waitpid(f->guard_pid, NULL, WNOHANG) != 0)
		return;
	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++) {
		if (a->reap[i] <= 0) {
			a->reap[i] = f->guard_pid;
			return;
		}
	}
	waitpid(f->guard_pid, NULL, 0);        /* list full: it is exiting anyway */
}

/*
 * How long a guest agent may take to answer a freeze or thaw: a quarter of
 * the freeze timeout (the freeze itself must fit in it), 1 to 5 seconds.
 */
static int guest_agent_timeout_s(const struct ts_agent *a)
{
	unsigned s = a->cfg->freeze_timeout_ms / 4000;

	return s < 1 ? 1 : s > 5 ? 5 : (int)s;
}

/*
 * Before the freeze deadline nobody but this agent resumes a snapshot's
 * I/O (its freeze guard acts only after it).  After the deadline, or for
 * I/O a previous run held, the guard or an admin may have resumed some of
 * it already, and a resume-io of a device that is not suspended is not
 * harmless: real DRBD 8.4 then waits until no application write is
 * pending, uninterruptibly, for ever if one is stuck.  So then only the
 * minors DRBD still shows suspended are resumed (all of them if DRBD
 * cannot be asked); so too on a @retry, as a resume-io that timed out may
 * have done its work, and after a failed suspend-io, which may not have.
 * Returns how many are left in @minors.
 */
static size_t still_suspended(struct ts_agent *a, struct ts_inflight *f, int *minors, size_t n,
			      bool retry)
{
	bool suspended[TS_SNAP_MAX_VOLUMES];
	char *err = NULL;
	size_t k = 0;

	if (!retry && !f->from_intent && !f->ask_drbd &&
	    ts_now_ms() < f->held_since_ms + a->cfg->freeze_timeout_ms)
		return n;
	if (ts_drbd_minors_suspended(a->cfg->drbdsetup, minors, n, DRBDSETUP_TIMEOUT_MS,
				     suspended, &err) < 0) {
		qb_log(LOG_WARNING, "snapshot %s: cannot ask DRBD which minors are still "
		       "suspended (%s): resuming all", f->row.id, err ? err : "?");
		free(err);
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		if (suspended[i])
			minors[k++] = minors[i];
		else
			qb_log(LOG_INFO, "snapshot %s: minor %d is no longer suspended (resumed by "
			       "the freeze guard or by hand)", f->row.id, minors[i]);
	}
	return k;
}

static void resume_done(struct ts_inflight *f);
static void fx_continue(struct ts_inflight *f);
static bool writes_catalog(enum ts_fx_kind k);
static void step_txn_open(struct ts_agent *a, bool *open);

/*
 * resume-io of @left (@n minors), tried three times: resuming is what must
 * never fail to happen.  @retry: a resume-io of this hold may have run
 * already (failed, killed), so DRBD is asked first (still_suspended).
 * 0, or -errno with *@err saying why and @left[0] a minor still held.
 */
static int resume_minors(struct ts_agent *a, struct ts_inflight *f, int *left, size_t n,
			 bool retry, char **err)
{
	bool failed[TS_SNAP_MAX_VOLUMES];
	int rc = -EIO;

	for (int t = 0; t < 3 && rc < 0; t++) {
		size_t k = 0;

		free(*err);
		*err = NULL;
		n = still_suspended(a, f, left, n, retry || t > 0);
		if (n == 0)
			return 0;
		rc = ts_drbd_run_each(a->cfg->drbdsetup, "resume-io", left, n,
				      DRBDSETUP_TIMEOUT_MS, failed, err);
		for (size_t i = 0; i < n; i++)
			if (failed[i])
				left[k++] = left[i];
		n = k;
	}
	return rc;
}

/* The minors are resumed: thaw the guest, log, drop the intent and the guard. */
static void resume_finish(struct ts_agent *a, struct ts_inflight *f)
{
	char *err = NULL;

	if (f->n_minors)
		f->t_resumed = ts_now_us();
	for (uint32_t v = 0; v < f->row.n_volumes && f->n_minors; v++) {
		char res[TS_DRBD_NAME_MAX];

		ts_drbd_resource_name(f->row.vm, f->row.volumes[v], res, sizeof(res));
		ts_agent_note_resumed(a, res);
	}
	if (f->n_minors)
		ts_fault("snap/resumed");
	if (f->fsfrozen) {
		/* A guest left frozen is held I/O too (S5): retry the thaw. */
		int rc = -EIO;

		for (int t = 0; t < 3 && rc < 0; t++) {
			free(err);
			err = NULL;
			rc = ts_hv_fsfreeze(a->cfg->libvirt_uri, f->row.vm, false,
					    guest_agent_timeout_s(a), &err);
		}
		if (rc < 0)
			qb_log(LOG_CRIT, "snapshot %s: cannot thaw the guest filesystems of %s: %s",
			       f->row.id, f->row.vm, err ? err : ts_strerror(rc));
		free(err);
		err = NULL;
	}
	if (f->held)
		qb_log(LOG_INFO, "snapshot %s: I/O of %s resumed after %llu ms", f->row.id,
		       f->row.vm, (unsigned long long)(ts_now_ms() - f->held_since_ms));
	ts_catalog_intent_clear(a->catalog, f->row.id);
	guard_release(a, f);
	f->held = f->fsfrozen = f->ask_drbd = false;
	f->n_minors = 0;
	release_hold_slot(a, f);
}

/*
 * resume-io of f's minors at once (asking DRBD first if f->ask_drbd), then
 * resume_finish; a failure leaves the intent for a restart.
 */
static void resume_now(struct ts_agent *a, struct ts_inflight *f)
{
	char *err = NULL;

	if (f->n_minors) {
		int left[TS_SNAP_MAX_VOLUMES];
		int rc;

		memcpy(left, f->minors, f->n_minors * sizeof(left[0]));
		rc = resume_minors(a, f, left, f->n_minors, f->ask_drbd, &err);
		if (rc < 0) {
			qb_log(LOG_CRIT, "snapshot %s: cannot resume I/O of minor %d: %s",
			       f->row.id, left[0], err ? err : ts_strerror(rc));
			free(err);
			return;
		}
	}
	resume_finish(a, f);
}

/* Resume I/O at once, the loop waiting. */
static void resume_io(struct ts_agent *a, struct ts_inflight *f)
{
	if (f->jobs_next == resume_done)
		f->ask_drbd = true;     /* its resume-io calls are killed half-way */
	jobs_reap(f);
	disarm(a, f->drain_timer, &f->drain_armed);
	if (f->n_minors) {
		ts_fault("snap/resume");
		f->t_resume = ts_now_us();
	}
	resume_now(a, f);
}

/* The intent's removal joins the next catalog write of the paused step, as in run_fx. */
static void resume_txn_join(struct ts_agent *a, const struct ts_inflight *f)
{
	if (f->paused && f->paused->next < f->paused->fx.n &&
	    writes_catalog(f->paused->fx.items[f->paused->next].kind))
		step_txn_open(a, &a->step_txn);
}

/*
 * Resume I/O as jobs on the loop, so that the loop serves the CLI, CPG and
 * the other snapshots while DRBD answers (with 100 VMs snapshotted at once
 * a blocking resume held the loop ~40 ms a snapshot).  Only the usual case
 * (resume_async_ok): this run holds every minor and nobody else may have
 * resumed one (before the freeze deadline); otherwise resume_io.  Then
 * resume_done, then the step's effects go on (fx_continue) -- at once if
 * no job could be started, so the caller sets f->paused first.
 */
static bool resume_async_ok(struct ts_agent *a, const struct ts_inflight *f)
{
	return f->n_minors && !f->from_intent && !f->ask_drbd &&
	       ts_now_ms() < f->held_since_ms + a->cfg->freeze_timeout_ms;
}

static void resume_io_start(struct ts_agent *a, struct ts_inflight *f)
{
	jobs_reap(f);
	disarm(a, f->drain_timer, &f->drain_armed);
	ts_fault("snap/resume");
	if (!resume_async_ok(a, f)) {
		/* The deadline passed meanwhile (the agent stalled): the freeze
		 * guard may have resumed, so DRBD is asked first. */
		f->t_resume = ts_now_us();
		resume_txn_join(a, f);
		resume_now(a, f);
		fx_continue(f);
		return;
	}
	f->t_resume = ts_now_us();
	jobs_start_minors(a, f, "resume-io", resume_done);
}

/* The resume-io jobs are in: what failed is tried again at once, asking DRBD first. */
static void resume_done(struct ts_inflight *f)
{
	struct ts_agent *a = f->agent;
	bool failed = f->jobs_rc < 0;

	if (failed) {
		qb_log(LOG_WARNING, "snapshot %s: resume-io failed (%s): trying again", f->row.id,
		       f->jobs_err);
		f->ask_drbd = true;
	}
	jobs_reset(f);
	resume_txn_join(a, f);
	if (failed)
		resume_now(a, f);
	else
		resume_finish(a, f);
	fx_continue(f);
}

static void step(struct ts_agent *a, struct ts_inflight *f, struct ts_snapshot *row,
		 const struct ts_snap_event *ev);

static void quiesced(struct ts_inflight *f, int err, const char *reason, const char *msg)
{
	struct ts_snap_event ev = { .kind = TS_EV_QUIESCED, .err = err, .achieved = f->achieved };

	snprintf(ev.reason, sizeof(ev.reason), "%s", reason ? reason : "");
	snprintf(ev.message, sizeof(ev.message), "%s", msg ? msg : "");
	step(f->agent, f, &f->row, &ev);
}

static void check_drain(struct ts_inflight *f);

static void on_drain_timer(void *data)
{
	struct ts_inflight *f = data;

	f->drain_armed = false;
	check_drain(f);
}

static void drain_read(struct ts_inflight *f);

static void drain_names(const struct ts_inflight *f, char (*names)[TS_DRBD_NAME_MAX],
			const char **res)
{
	for (uint32_t i = 0; i < f->row.n_volumes; i++) {
		ts_drbd_resource_name(f->row.vm, f->row.volumes[i], names[i], TS_DRBD_NAME_MAX);
		res[i] = names[i];
	}
}

/*
 * suspend-io alone does not settle writes already on their way to the peer
 * (DRBD's own consistent-snapshots test): wait until the peer has
 * acknowledged every one, so both PMs' backing stores hold the same bytes.
 * One `events2 --now --statistics RES` per volume, as jobs; drain_read
 * judges what they printed.
 */
static void check_drain(struct ts_inflight *f)
{
	char names[TS_SNAP_MAX_VOLUMES][TS_DRBD_NAME_MAX];
	const char *res[TS_SNAP_MAX_VOLUMES];
	const char *args[TS_SNAP_MAX_VOLUMES][5];

	if (!f->agent->cfg->drain) {
		/* Only for demonstrating the hazard (twinsnap.conf(5)). */
		quiesced(f, 0, NULL, NULL);
		return;
	}
	drain_names(f, names, res);
	for (uint32_t i = 0; i < f->row.n_volumes; i++) {
		args[i][0] = "events2";
		args[i][1] = "--now";
		args[i][2] = "--statistics";
		args[i][3] = res[i];
		args[i][4] = NULL;
	}
	jobs_start(f->agent, f, (const char *const (*)[5])args, f->row.n_volumes, drain_read);
}

static void drain_read(struct ts_inflight *f)
{
	struct ts_agent *a = f->agent;
	char names[TS_SNAP_MAX_VOLUMES][TS_DRBD_NAME_MAX], msg[320], *err = NULL;
	const char *res[TS_SNAP_MAX_VOLUMES];
	struct ts_drbd_model *model;
	struct ts_drbd_drain d;
	int rc = f->jobs_rc;

	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot read in-flight writes: %s", f->jobs_err);
		jobs_reset(f);
		quiesced(f, rc, "drain_failed", msg);
		return;
	}
	drain_names(f, names, res);
	model = ts_drbd_model_create();
	for (uint32_t i = 0; i < f->row.n_volumes; i++)
		ts_drbd_model_apply_text(model, f->jobs[i].out);
	jobs_reset(f);
	rc = ts_drbd_drain_eval(model, res, f->row.n_volumes, &d, &err);
	ts_drbd_model_destroy(model);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot read in-flight writes: %s",
			 err ? err : ts_strerror(rc));
		free(err);
		quiesced(f, rc, "drain_failed", msg);
		return;
	}
	/*
	 * A connection lost while writes were in flight makes their count 0
	 * without the peer having them: the pieces would differ (S1).
	 */
	if (!d.replicating) {
		snprintf(msg, sizeof(msg), "replication to the peer is broken (%s): "
			 "the pieces could differ", d.why);
		quiesced(f, -ENOTCONN, "replication_lost", msg);
		return;
	}
	if (d.in_flight == 0) {
		f->t_drained = ts_now_us();
		ts_fault("snap/drained");
		qb_log(LOG_DEBUG, "snapshot %s: in-flight writes drained after %llu ms",
		       f->row.id, (unsigned long long)(ts_now_ms() - f->held_since_ms));
		quiesced(f, 0, NULL, NULL);
		return;
	}
	f->drain_armed = qb_loop_timer_add(a->loop, QB_LOOP_HIGH, DRAIN_POLL_MS * NS_PER_MS, f,
					   on_drain_timer, &f->drain_timer) == 0;
}

/*
 * The DRBD minors of @row's volumes, from the events2 model, into @minors;
 * *@n counts those found (up to the first missing one, on -ENOENT).
 */
static int find_minors(struct ts_agent *a, const struct ts_snapshot *row, int *minors,
		       size_t *n, char *msg, size_t len)
{
	const struct ts_drbd_model *m = ts_drbd_mon_model(a->drbd);

	*n = 0;
	for (uint32_t i = 0; i < row->n_volumes; i++) {
		char res[TS_DRBD_NAME_MAX];
		const struct ts_drbd_resource *r;

		ts_drbd_resource_name(row->vm, row->volumes[i], res, sizeof(res));
		r = ts_drbd_model_find(m, res);
		if (!r || r->n_devices == 0 || r->devices[0].minor < 0) {
			snprintf(msg, len, "DRBD resource %s has no known minor", res);
			return -ENOENT;
		}
		minors[(*n)++] = r->devices[0].minor;
	}
	return 0;
}

static void suspended(struct ts_inflight *f);

static int record_intent_early(struct ts_agent *a, struct ts_inflight *f)
{
	int minors[TS_SNAP_MAX_VOLUMES];
	size_t n;
	char msg[256];

	/* not into f->minors: they say what resume-io must resume */
	if (find_minors(a, &f->row, minors, &n, msg, sizeof(msg)) < 0)
		return -ENOENT;
	return ts_catalog_intent_add(a->catalog, f->row.id, minors, n, false, f->row.vm);
}

static void on_freeze_timer(void *data);
static void start_quiesce(struct ts_agent *a, struct ts_inflight *f);

static void arm_freeze_timer(struct ts_agent *a, struct ts_inflight *f)
{
	f->freeze_armed = qb_loop_timer_add(a->loop, QB_LOOP_HIGH,
					    (uint64_t)a->cfg->freeze_timeout_ms * NS_PER_MS, f,
					    on_freeze_timer, &f->freeze_timer) == 0;
}

/*
 * At most max_holds snapshots quiesce at once on this PM: a schedule
 * firing for a hundred VMs otherwise has them all suspended together,
 * each waiting for DRBD behind the others, and every VM's I/O held for
 * the whole storm instead of for its own snapshot.  The others wait in
 * phase `created`, holding nothing, without the freeze timer, which counts
 * from their own start.  A hold ends in resume_finish (or with the row).
 */
static bool take_hold_slot(struct ts_agent *a, struct ts_inflight *f)
{
	if (f->has_slot)
		return true;
	if (a->n_holds >= a->cfg->max_holds) {
		disarm(a, f->freeze_timer, &f->freeze_armed);
		if (!f->wants_slot) {
			f->wants_slot = true;
			f->slot_seq = ++a->slot_seq;
			qb_log(LOG_INFO, "snapshot %s: waits for one of the %u snapshots holding "
			       "I/O here (max_holds)", f->row.id, a->cfg->max_holds);
		}
		return false;
	}
	f->wants_slot = false;
	f->has_slot = true;
	a->n_holds++;
	return true;
}

static void on_slot_free(void *data);

static void release_hold_slot(struct ts_agent *a, struct ts_inflight *f)
{
	f->wants_slot = false;
	if (!f->has_slot)
		return;
	f->has_slot = false;
	a->n_holds--;
	/* the next one starts from the loop, not inside this snapshot's step */
	if (!a->slot_job_queued)
		a->slot_job_queued = qb_loop_job_add(a->loop, QB_LOOP_HIGH, a, on_slot_free) == 0;
}

static void on_slot_free(void *data)
{
	struct ts_agent *a = data;

	a->slot_job_queued = false;
	while (a->n_holds < a->cfg->max_holds) {
		struct ts_inflight *next = NULL;

		for (size_t i = 0; i < TS_MAX_INFLIGHT; i++) {
			struct ts_inflight *f = &a->inflight[i];

			if (f->used && f->wants_slot && (!next || f->slot_seq < next->slot_seq))
				next = f;
		}
		if (!next)
			return;
		next->wants_slot = false;
		if (next->row.phase != TS_PH_CREATED || next->row.abort_sent || next->paused)
			continue;
		/* its hold starts now: the freeze timeout counts from here */
		disarm(a, next->freeze_timer, &next->freeze_armed);
		arm_freeze_timer(a, next);
		start_quiesce(a, next);
	}
}

static void start_quiesce(struct ts_agent *a, struct ts_inflight *f)
{
	enum ts_consistency want = f->row.consistency_requested;
	int minors[TS_SNAP_MAX_VOLUMES];
	size_t n_minors;
	char msg[256], *err = NULL;

	if (!take_hold_slot(a, f))
		return;
	ts_fault("snap/quiesce");
	f->achieved = TS_CONS_CRASH;
	/* f->minors only once suspend-io is on its way: they are what resume_io resumes */
	if (find_minors(a, &f->row, minors, &n_minors, msg, sizeof(msg)) < 0) {
		quiesced(f, -ENOENT, "quiesce_failed", msg);
		return;
	}
	if (want != TS_CONS_CRASH) {
		if (ts_hv_fsfreeze(a->cfg->libvirt_uri, f->row.vm, true, guest_agent_timeout_s(a),
				   &err) == 0) {
			f->fsfrozen = true;
			f->achieved = TS_CONS_APPLICATION;
		} else if (want == TS_CONS_APPLICATION) {
			snprintf(msg, sizeof(msg), "application consistency needs a working "
				 "guest agent: %s", err);
			free(err);
			quiesced(f, -EIO, "guest_agent_unavailable", msg);
			return;
		} else {
			qb_log(LOG_NOTICE, "snapshot %s: no guest agent (%s); crash-consistent",
			       f->row.id, err);
			free(err);
			err = NULL;
		}
	}
	/* The intent is durable before anything is held. */
	if (!f->intent_early &&
	    ts_catalog_intent_add(a->catalog, f->row.id, minors, n_minors, f->fsfrozen,
				  f->row.vm) < 0) {
		resume_io(a, f);
		quiesced(f, -EIO, "quiesce_failed", "cannot record the freeze intent");
		return;
	}
	if (guard_start(a, f, minors, n_minors) < 0) {
		resume_io(a, f);
		quiesced(f, -EIO, "quiesce_failed", "cannot start the freeze guard");
		return;
	}
	for (uint32_t v = 0; v < f->row.n_volumes; v++) {
		char res[TS_DRBD_NAME_MAX];

		ts_drbd_resource_name(f->row.vm, f->row.volumes[v], res, sizeof(res));
		ts_agent_note_suspending(a, res);
	}
	memcpy(f->minors, minors, sizeof(f->minors));
	f->n_minors = n_minors;
	f->held_since_ms = ts_now_ms();
	f->held = true;
	f->t_suspend = ts_now_us();
	jobs_start_minors(a, f, "suspend-io", suspended);
}

/* The suspend-io calls are in. */
static void suspended(struct ts_inflight *f)
{
	char msg[256];

	if (f->jobs_rc < 0) {
		/* A suspend-io that failed or was killed at its timeout may
		 * still have taken effect: the resume asks DRBD which are. */
		f->ask_drbd = true;
		snprintf(msg, sizeof(msg), "%s", f->jobs_err);
		jobs_reset(f);
		quiesced(f, -EIO, "quiesce_failed", msg);
		return;
	}
	jobs_reset(f);
	f->t_suspended = ts_now_us();
	ts_fault("snap/suspended");
	check_drain(f);
}

static void on_freeze_timer(void *data)
{
	struct ts_inflight *f = data;
	struct ts_snap_event ev = { .kind = TS_EV_FREEZE_TIMEOUT };

	f->freeze_armed = false;
	qb_log(LOG_WARNING, "snapshot %s: I/O held for the freeze timeout (%u ms): aborting",
	       f->row.id, f->agent->cfg->freeze_timeout_ms);
	step(f->agent, f, &f->row, &ev);
}

/* ---- pieces -------------------------------------------------------------------- */

static int take_pieces(struct ts_agent *a, const struct ts_snapshot *row, char *msg, size_t len)
{
	if (!a->store) {
		snprintf(msg, len, "the volume store is unavailable");
		return -ENODEV;
	}
	for (uint32_t i = 0; i < row->n_volumes; i++) {
		char path[4096];
		int rc;

		if (i > 0)
			ts_fault("snap/piece");
		rc = ts_store_take(a->store, row->id, row->vm, row->volumes[i], path,
				       sizeof(path));

		if (rc == 0)
			rc = ts_catalog_piece_add(a->catalog, row->id, row->volumes[i], path);
		if (rc < 0) {
			snprintf(msg, len, "piece of %s-%s: %s", row->vm, row->volumes[i],
				 ts_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static void delete_pieces(struct ts_agent *a, const struct ts_snapshot *row)
{
	struct ts_catalog_piece *pieces = NULL;
	size_t n = 0;

	if (a->store && ts_store_remove(a->store, row->id, NULL) < 0)
		qb_log(LOG_ERR, "snapshot %s: cannot remove its pieces", row->id);
	if (ts_catalog_pieces(a->catalog, row->id, &pieces, &n) == 0)
		for (size_t i = 0; i < n; i++)
			ts_catalog_piece_remove(a->catalog, row->id, pieces[i].volume);
	free(pieces);
}

/* ---- effects ---------------------------------------------------------------------- */

static void send_simple(struct ts_agent *a, int kind, const struct ts_snapshot *row,
			const struct ts_fx *f, enum ts_consistency achieved)
{
	struct ts_cluster_msg *m = ts_agent_msg_new(a, kind);

	snprintf(m->snap_id, sizeof(m->snap_id), "%s", row->id);
	m->achieved = achieved;
	if (f) {
		snprintf(m->reason, sizeof(m->reason), "%s", f->code);
		snprintf(m->message, sizeof(m->message), "%s", f->message);
	}
	if (ts_agent_send(a, m) < 0)
		qb_log(LOG_ERR, "snapshot %s: cannot multicast (cluster unavailable)", row->id);
}

static void log_event(struct ts_agent *a, const struct ts_snapshot *row, const char *kind,
		      const char *reason, const char *message)
{
	struct ts_event e;

	memset(&e, 0, sizeof(e));
	e.time_ms = ts_wall_ms();
	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	if (row) {
		snprintf(e.snapshot, sizeof(e.snapshot), "%s", row->id);
		snprintf(e.vm, sizeof(e.vm), "%s", row->vm);
	}
	snprintf(e.reason, sizeof(e.reason), "%s", reason ? reason : "");
	/* Messages may quote drbdsetup or libvirt: keep them plain ASCII. */
	ts_sanitize_for_log(message, e.message, sizeof(e.message));
	if (ts_catalog_event_add(a->catalog, &e) < 0)
		qb_log(LOG_ERR, "cannot log event %s: %s", kind, message);
	qb_log(LOG_NOTICE, "event %s%s%s: %s", kind, reason && reason[0] ? " " : "",
	       reason ? reason : "", message);
}

void ts_snap_log_event(struct ts_agent *a, const char *kind, const char *reason,
		       const char *message)
{
	if (a->catalog)
		log_event(a, NULL, kind, reason, message);
}

/*
 * The catalog writes of one step go in one transaction (one fdatasync
 * instead of one per write, several of them while the VM's I/O is held),
 * committed before anything another party can see: a multicast, a reply,
 * resume-io, the removal of piece files.  So "durable before visible"
 * holds as it did with a transaction per write.
 */
static bool writes_catalog(enum ts_fx_kind k)
{
	return k == TS_FX_PERSIST || k == TS_FX_REMOVE_ROW || k == TS_FX_EVENT ||
	       k == TS_FX_TAKE_PIECES;
}

/* @open: a->step_txn, the transaction of the step (and of its follow-up) */
static void step_txn_open(struct ts_agent *a, bool *open)
{
	if (!*open && ts_catalog_begin(a->catalog) == 0)
		*open = true;
}

static void step_txn_commit(struct ts_agent *a, const struct ts_snapshot *row, bool *open)
{
	if (!*open)
		return;
	*open = false;
	if (ts_catalog_commit(a->catalog) < 0)
		qb_log(LOG_CRIT, "snapshot %s: cannot commit its catalog changes", row->id);
}

/*
 * Run @r's effects from r->next.  Returns true when they wait for resume-io
 * jobs (f->paused has them; resume_done goes on): the caller must leave
 * the row alone until then.
 */
static bool run_fx(struct ts_agent *a, struct ts_inflight *f, struct ts_snapshot *row,
		   struct ts_fx_run *r)
{
	const struct ts_fx_list *fx = &r->fx;
	bool *txn = &a->step_txn;

	for (size_t i = r->next; i < fx->n; i++) {
		const struct ts_fx *e = &fx->items[i];

		qb_log(LOG_DEBUG, "snapshot %s: %s", row->id, ts_fx_str(e->kind));
		if (writes_catalog(e->kind))
			step_txn_open(a, txn);
		else if (e->kind != TS_FX_ARM_TIMER && e->kind != TS_FX_DISARM_TIMER &&
			 e->kind != TS_FX_QUIESCE)
			step_txn_commit(a, row, txn);
		switch (e->kind) {
		case TS_FX_SEND_FROZEN:
			send_simple(a, TS_CMSG_FROZEN, row, NULL, f ? f->achieved : TS_CONS_CRASH);
			break;
		case TS_FX_SEND_TAKEN:
			ts_fault("snap/send-taken");
			send_simple(a, TS_CMSG_TAKEN, row, NULL, TS_CONS_CRASH);
			break;
		case TS_FX_SEND_ABORT:
			ts_fault("snap/abort");
			send_simple(a, TS_CMSG_ABORT, row, e, TS_CONS_CRASH);
			break;
		case TS_FX_QUIESCE:
			r->start_q = f != NULL;
			/* Crash consistency freezes nothing before suspend-io:
			 * the freeze intent joins the step's transaction (the
			 * row's), one fdatasync fewer before the hold.  Its
			 * minors are not held yet: a restart that finds it
			 * resumes only what DRBD shows suspended. */
			if (f && *txn && row->consistency_requested == TS_CONS_CRASH)
				f->intent_early = record_intent_early(a, f) == 0;
			break;
		case TS_FX_RESUME:
			if (f && row == &f->row && resume_async_ok(a, f)) {
				r->next = i + 1;
				f->paused = ts_xmalloc(sizeof(*r));
				*f->paused = *r;
				resume_io_start(a, f);
				return true;
			}
			/* The intent's removal need not be durable before what
			 * follows: it joins the step's next catalog write (a
			 * restart finds the intent and resumes only what DRBD
			 * still shows suspended). */
			if (i + 1 < fx->n && writes_catalog(fx->items[i + 1].kind))
				step_txn_open(a, txn);
			if (f)
				resume_io(a, f);
			break;
		case TS_FX_TAKE_PIECES: {
			char msg[256] = "";

			ts_fault("snap/frozen");
			if (f)
				f->t_pieces_start = ts_now_us();
			r->follow.kind = TS_EV_PIECES;
			r->follow.err = take_pieces(a, row, msg, sizeof(msg));
			if (f)
				f->t_pieces_done = ts_now_us();
			snprintf(r->follow.message, sizeof(r->follow.message), "%s", msg);
			r->have_follow = true;
			ts_agent_publish_soon(a);
			break;
		}
		case TS_FX_DELETE_PIECES:
			ts_fault("snap/delete");
			delete_pieces(a, row);
			ts_agent_publish_soon(a);
			break;
		case TS_FX_PERSIST:
			ts_fault("snap/commit");
			if (ts_catalog_put(a->catalog, row) < 0)
				qb_log(LOG_CRIT, "snapshot %s: cannot write its catalog row", row->id);
			break;
		case TS_FX_REMOVE_ROW:
			if (ts_catalog_remove(a->catalog, row->id, ts_wall_ms()) < 0)
				qb_log(LOG_ERR, "snapshot %s: cannot remove its catalog row", row->id);
			break;
		case TS_FX_REPLY:
			if (e->request_node == a->nodeid)
				ts_agent_answer_pending(a, e->request, e->exit_code, e->code,
							e->message, e->exit_code == 0 ? row : NULL);
			break;
		case TS_FX_EVENT:
			log_event(a, row, e->event_kind, e->code, e->message);
			break;
		case TS_FX_ARM_TIMER:
			if (f && !f->freeze_armed)
				arm_freeze_timer(a, f);
			break;
		case TS_FX_DISARM_TIMER:
			if (f)
				disarm(a, f->freeze_timer, &f->freeze_armed);
			break;
		}
	}
	r->next = fx->n;
	if (r->have_follow) {
		/*
		 * The pieces' step writes what nobody sees until the step that
		 * follows does something visible, which commits it first: the
		 * two share one transaction (one fdatasync fewer on each PM
		 * while the primary holds I/O).  A crash before that commit
		 * leaves piece files without rows, removed with the snapshot.
		 */
		r->have_follow = false;
		step(a, f, row, &r->follow);
		step_txn_commit(a, row, txn);   /* the follow-up was ignored */
		return false;
	}
	step_txn_commit(a, row, txn);
	if (r->start_q && f->used && strcmp(f->row.id, row->id) == 0)
		start_quiesce(a, f);
	return false;
}

static double span_ms(uint64_t from, uint64_t to)
{
	return from && to >= from ? (double)(to - from) / 1000.0 : 0.0;
}

/*
 * Where a snapshot's time went on this PM (make bench reads it): precheck =
 * CREATE delivered to admitted; quiesce = admitted to FROZEN delivered (on
 * the primary the guest freeze, suspend-io and drain, on the secondary the
 * wait for them); pieces = the local reflinks and their catalog rows;
 * commit = pieces durable to normal (the TAKEN exchange).
 */
static void log_timing(const struct ts_inflight *f)
{
	uint64_t now = ts_now_us();

	qb_log(LOG_INFO, "snapshot %s: timing total_ms=%.3f precheck_ms=%.3f quiesce_ms=%.3f "
	       "pieces_ms=%.3f commit_ms=%.3f", f->row.id, span_ms(f->t_delivered, now),
	       span_ms(f->t_delivered, f->t_admitted), span_ms(f->t_admitted, f->t_frozen),
	       span_ms(f->t_pieces_start, f->t_pieces_done), span_ms(f->t_pieces_done, now));
	/*
	 * The primary's hold: prepare = admitted to suspend-io (guest freeze,
	 * the intent, the freeze guard); suspend = the suspend-io calls; drain =
	 * until no write is in flight; frozen = drained to FROZEN delivered;
	 * release = FROZEN delivered to resume-io (its pieces); resume = the
	 * resume-io calls.
	 */
	if (f->t_resumed)
		qb_log(LOG_INFO, "snapshot %s: hold prepare_ms=%.3f suspend_ms=%.3f drain_ms=%.3f "
		       "frozen_ms=%.3f release_ms=%.3f resume_ms=%.3f", f->row.id,
		       span_ms(f->t_admitted, f->t_suspend), span_ms(f->t_suspend, f->t_suspended),
		       span_ms(f->t_suspended, f->t_drained), span_ms(f->t_drained, f->t_frozen),
		       span_ms(f->t_frozen, f->t_resume), span_ms(f->t_resume, f->t_resumed));
}

/*
 * One machine step for a row: in flight (@f set, @row == &f->row) or
 * settled (@f NULL, @row loaded from the catalog).
 */
/* Keep @ev for when @f's effects are done (step() applies it then). */
static void defer_event(struct ts_inflight *f, const struct ts_snap_event *ev)
{
	if (f->n_deferred == f->cap_deferred) {
		f->cap_deferred = f->cap_deferred ? 2 * f->cap_deferred : 4;
		f->deferred = realloc(f->deferred, f->cap_deferred * sizeof(*ev));
		if (!f->deferred)
			abort();        /* as ts_xmalloc: the agent cannot go on without it */
	}
	f->deferred[f->n_deferred++] = *ev;
	qb_log(LOG_DEBUG, "snapshot %s: event %s waits for the resume", f->row.id,
	       ts_snap_event_str(ev->kind));
}

/* After a step's effects: a settled row leaves the in-flight table. */
static void step_settle(struct ts_agent *a, struct ts_inflight *f, struct ts_snapshot *row,
			const struct ts_fx_list *fx)
{
	if (!f || !f->used || row != &f->row || f->paused)
		return;
	if (f->row.phase == TS_PH_NORMAL)
		log_timing(f);
	if (ts_fx_removes_row(fx) || f->row.phase == TS_PH_NORMAL ||
	    f->row.phase == TS_PH_PENDING) {
		if (f->held)
			resume_io(a, f);        /* never leave a settled snapshot holding I/O */
		inflight_drop(f);
	}
}

/* The resume a step waited for is done: its other effects, then what was delivered meanwhile. */
static void fx_continue(struct ts_inflight *f)
{
	struct ts_agent *a = f->agent;
	struct ts_fx_run *r = f->paused;

	if (!r)
		return;
	f->paused = NULL;
	if (!run_fx(a, f, &f->row, r))
		step_settle(a, f, &f->row, &r->fx);
	free(r);
	while (f->used && !f->paused && f->n_deferred > 0) {
		struct ts_snap_event ev = f->deferred[0];

		memmove(f->deferred, f->deferred + 1, --f->n_deferred * sizeof(ev));
		step(a, f, &f->row, &ev);
	}
}

static void step(struct ts_agent *a, struct ts_inflight *f, struct ts_snapshot *row,
		 const struct ts_snap_event *ev)
{
	struct ts_fx_run r = { .next = 0 };

	/* The row's last step still runs its effects: this one comes after them. */
	if (f && f->used && row == &f->row && f->paused) {
		defer_event(f, ev);
		return;
	}

	/*
	 * The freeze deadline is checked before anything else is applied: the
	 * loop may hand us a delivery before the expired timer (a long clone,
	 * a slow drbdsetup), and by then the freeze guard may have resumed
	 * I/O.  Committing then could pair a piece taken after the resume
	 * with one taken before it (found by the spin model).
	 */
	if (f && f->used && row == &f->row && f->held && !row->abort_sent &&
	    ev->kind != TS_EV_FREEZE_TIMEOUT &&
	    ts_now_ms() - f->held_since_ms >= a->cfg->freeze_timeout_ms) {
		struct ts_snap_event timeout = { .kind = TS_EV_FREEZE_TIMEOUT };

		disarm(a, f->freeze_timer, &f->freeze_armed);
		qb_log(LOG_WARNING, "snapshot %s: freeze deadline passed before %s was handled",
		       row->id, ts_snap_event_str(ev->kind));
		step(a, f, row, &timeout);
		if (!f->used || row != &f->row)
			return;
		if (f->paused) {
			defer_event(f, ev);
			return;
		}
	}

	if (ts_snapfsm_step(a->nodeid, row, ev, &r.fx) != TS_FSM_APPLIED) {
		qb_log(LOG_DEBUG, "snapshot %s: event %s ignored in phase %s", row->id,
		       ts_snap_event_str(ev->kind), ts_snap_phase_str(row->phase));
		return;
	}
	if (!run_fx(a, f, row, &r))
		step_settle(a, f, row, &r.fx);
}

/* ---- CREATE ------------------------------------------------------------------------- */

static int pair(struct ts_agent *a, struct ts_peer **p0, struct ts_peer **p1)
{
	if (a->n_peers != TS_NODE_PAIR)
		return -ENOENT;
	*p0 = a->peers[0].nodeid < a->peers[1].nodeid ? &a->peers[0] : &a->peers[1];
	*p1 = *p0 == &a->peers[0] ? &a->peers[1] : &a->peers[0];
	return 0;
}

static bool reconciled(struct ts_agent *a)
{
	for (size_t i = 0; i < a->n_peers; i++)
		if (a->peers[i].member && !a->digest_from[i])
			return false;
	return true;
}

static void refuse_create(struct ts_agent *a, uint32_t origin, const struct ts_cluster_msg *m,
			  const char *code, const char *message)
{
	log_event(a, &m->snap, "refused", code, message);
	if (origin == a->nodeid && m->snap.request)
		ts_agent_answer_pending(a, m->snap.request, 4, code, message, NULL);
}

static bool row_exists(struct ts_agent *a, const char *id)
{
	struct ts_snapshot row;

	if (ts_catalog_get(a->catalog, id, &row) < 0)
		return false;
	ts_snapshot_release(&row);
	return true;
}

static void handle_create(struct ts_agent *a, uint32_t origin, struct ts_cluster_msg *m)
{
	struct ts_precheck_in in;
	struct ts_precheck_out out;
	struct ts_peer *p[2];
	struct ts_snapshot *row = &m->snap;
	struct ts_inflight *f;
	struct ts_fx_run r = { .next = 0 };
	size_t busy = 0;
	uint64_t t_delivered = ts_now_us();

	ts_fault("snap/create");
	if (pair(a, &p[0], &p[1]) < 0) {
		refuse_create(a, origin, m, "not_a_pair", "refused: the cluster is not a pair of PMs");
		return;
	}
	if (!reconciled(a)) {
		refuse_create(a, origin, m, "reconciling",
			      "refused: the PMs are still reconciling their catalogs; try again");
		return;
	}
	if (row_exists(a, row->id) || ts_catalog_tombstoned(a->catalog, row->id)) {
		refuse_create(a, origin, m, "duplicate_id", "refused: snapshot id already used");
		return;
	}
	memset(&in, 0, sizeof(in));
	in.req = row;
	in.vm = &m->vm;
	in.snapshots_enabled = ts_settings_snapshots_enabled(a->settings);
	ts_catalog_count_in_flight(a->catalog, row->vm, &busy);
	in.in_flight_same_vm = busy;
	in.needed_bytes = m->needed_bytes;
	for (int i = 0; i < TS_NODE_PAIR; i++) {
		in.nodes[i].name = p[i]->name;
		in.nodes[i].nodeid = p[i]->nodeid;
		in.nodes[i].member = p[i]->member;
		in.nodes[i].maintenance = ts_settings_maintenance(a->settings, p[i]->name);
		in.nodes[i].report = p[i]->report;
	}
	if (ts_precheck(&in, &out) != 0) {
		refuse_create(a, origin, m, out.code, out.message);
		return;
	}
	row->primary = out.primary;
	row->secondary = out.secondary;
	row->origin = origin;
	f = inflight_add(a, row);
	if (!f) {
		refuse_create(a, origin, m, "too_many_in_flight",
			      "refused: too many snapshots in progress");
		return;
	}
	f->t_delivered = t_delivered;
	f->t_admitted = ts_now_us();
	ts_snapfsm_start(a->nodeid, &f->row, &r.fx);
	/*
	 * --no-wait is answered before the effects run: on the primary they
	 * include the quiesce, and the requester (a schedule firing for many
	 * VMs) should not wait for that.  Its next request is read only after
	 * this dispatch, when the row is in the catalog.
	 */
	if (m->no_wait && origin == a->nodeid)
		ts_agent_answer_pending(a, row->request, 0, "", "created", &f->row);
	run_fx(a, f, &f->row, &r);
}

/* ---- reconciliation --------------------------------------------------------------------- */

static enum ts_peer_view view_of_phase(enum ts_snap_phase phase)
{
	if (phase == TS_PH_NORMAL)
		return TS_VIEW_NORMAL;
	return phase == TS_PH_PENDING ? TS_VIEW_PENDING : TS_VIEW_BROKEN;
}

#define DIGEST_PART 2048         /* entries per DIGEST part: ~100 KB on the wire */

#define WALK_PAGE 4096

/*
 * Call @fn for every catalog row in @state (-1: all), read a page at a time
 * so the catalog's size does not matter.  @fn gets the row's key and phase
 * only (ts_catalog_get() for the rest, where it acts): a walk runs at every
 * membership change and reads the catalog's index, not its rows.  @fn may
 * change or remove rows.
 */
static void walk_rows(struct ts_agent *a, int state,
		      void (*fn)(struct ts_agent *a, const struct ts_catalog_key *row, void *ctx),
		      void *ctx)
{
	struct ts_catalog_cursor cur = TS_CATALOG_CURSOR_START;
	struct ts_catalog_key *keys = ts_xcalloc(WALK_PAGE, sizeof(*keys));
	bool more = true;

	while (more) {
		size_t n = 0;

		if (ts_catalog_keys_page(a->catalog, state, &cur, WALK_PAGE, keys, &n, &more) < 0)
			break;
		for (size_t i = 0; i < n; i++)
			fn(a, &keys[i], ctx);
	}
	free(keys);
}

/* A digest on its way out: the part being filled and the parts sent. */
struct digest_out {
	struct ts_digest_entry part[DIGEST_PART];
	size_t used;
	uint32_t no;
};

static void digest_flush(struct ts_agent *a, struct digest_out *o, bool more)
{
	struct ts_cluster_msg *m = ts_agent_msg_new(a, TS_CMSG_DIGEST);

	m->digest = ts_xcalloc(o->used + 1, sizeof(*m->digest));
	memcpy(m->digest, o->part, o->used * sizeof(o->part[0]));
	m->n_digest = (uint32_t)o->used;
	m->digest_more = more;
	m->digest_part = o->no++;
	ts_agent_send(a, m);
	o->used = 0;
}

static void digest_add(struct ts_agent *a, struct digest_out *o, const char *id,
		       enum ts_peer_view view)
{
	snprintf(o->part[o->used].id, sizeof(o->part[0].id), "%s", id);
	o->part[o->used++].view = view;
	if (o->used == DIGEST_PART)
		digest_flush(a, o, true);
}

static void digest_row(struct ts_agent *a, const struct ts_catalog_key *row, void *ctx)
{
	digest_add(a, ctx, row->id, view_of_phase(row->phase));
}

/*
 * Our catalog, every row's view and every tombstone, in parts of at most
 * DIGEST_PART entries, read a page at a time: bounded memory and message
 * size whatever the catalog holds.  The last part has more = false.
 */
static void send_digest(struct ts_agent *a)
{
	struct digest_out *o = ts_xcalloc(1, sizeof(*o));
	char (*tombs)[TS_SNAP_ID_LEN + 1] = NULL;
	size_t nt = 0;

	walk_rows(a, -1, digest_row, o);
	ts_catalog_tombstones(a->catalog, &tombs, &nt);
	for (size_t i = 0; i < nt; i++)
		digest_add(a, o, tombs[i], TS_VIEW_TOMBSTONE);
	digest_flush(a, o, false);
	free(tombs);
	free(o);
}

static int entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct ts_digest_entry *)x)->id,
		      ((const struct ts_digest_entry *)y)->id);
}

/* @d sorted by id */
static enum ts_peer_view peer_view(const struct ts_digest_acc *d, const char *id)
{
	struct ts_digest_entry key, *hit;

	snprintf(key.id, sizeof(key.id), "%s", id);
	hit = d->n ? bsearch(&key, d->e, d->n, sizeof(*d->e), entry_cmp) : NULL;
	return hit ? hit->view : TS_VIEW_ABSENT;
}

static void digest_acc_reset(struct ts_digest_acc *d)
{
	free(d->e);
	memset(d, 0, sizeof(*d));
}

static void reconcile_row(struct ts_agent *a, const struct ts_catalog_key *listed, void *ctx)
{
	struct ts_snap_event ev = { .kind = TS_EV_RECONCILE };
	struct ts_snapshot row;

	if (inflight_find(a, listed->id))
		return;         /* created in this configuration: not ours to judge */
	ev.view = peer_view(ctx, listed->id);
	if (listed->phase == TS_PH_NORMAL && ev.view == TS_VIEW_NORMAL)
		return;
	if (ts_catalog_get(a->catalog, listed->id, &row) < 0)
		return;
	qb_log(LOG_INFO, "reconcile: %s is %s here, %s on the peer", row.id,
	       ts_snap_phase_str(row.phase), ts_peer_view_str(ev.view));
	step(a, NULL, &row, &ev);
	ts_snapshot_release(&row);
}

/* The peer's whole digest has arrived (@d, sorted): settle our rows by it. */
static void reconcile_with(struct ts_agent *a, struct ts_digest_acc *d)
{
	walk_rows(a, -1, reconcile_row, d);
}

/*
 * One part of a PM's digest.  Parts are collected from part 0 on; once the
 * last is here, a peer's digest is applied and the PM counts as reconciled.
 * A digest this PM did not see begin is ignored: after a restart, the tail
 * of a digest the peer sent for the previous membership (held back by
 * corosync's flow control) can arrive first.  The full one the peer sends
 * for the current membership follows, part 0 first (virtual synchrony).
 */
static void digest_part(struct ts_agent *a, size_t peer, uint32_t nodeid,
			const struct ts_cluster_msg *m)
{
	struct ts_digest_acc *d = &a->digest_acc[peer];
	bool theirs = nodeid != a->nodeid;

	if (m->digest_part == 0) {
		digest_acc_reset(d);
		d->started = true;
	} else if (!d->started || m->digest_part != d->next_part) {
		if (d->started || !m->digest_more)
			qb_log(LOG_INFO, "reconcile: part %u of a digest from nodeid %u whose "
			       "start was not delivered here: ignored", m->digest_part, nodeid);
		digest_acc_reset(d);
		return;
	}
	d->next_part = m->digest_part + 1;
	if (theirs && !a->digest_from[peer]) {
		if (d->n + m->n_digest > d->cap) {
			d->cap = (d->n + m->n_digest) * 2;
			d->e = realloc(d->e, d->cap * sizeof(*d->e));
			if (!d->e)
				abort();
		}
		memcpy(d->e + d->n, m->digest, m->n_digest * sizeof(*d->e));
		d->n += m->n_digest;
	}
	if (m->digest_more)
		return;
	if (theirs && !a->digest_from[peer]) {
		qsort(d->e, d->n, sizeof(*d->e), entry_cmp);
		reconcile_with(a, d);
	}
	digest_acc_reset(d);
	a->digest_from[peer] = true;
}

/* ---- entry points from agent.c ----------------------------------------------------------- */

void ts_snap_deliver(struct ts_agent *a, uint32_t nodeid, struct ts_cluster_msg *m)
{
	struct ts_snap_event ev = { 0 };
	struct ts_inflight *f;

	switch (m->kind) {
	case TS_CMSG_CREATE:
		handle_create(a, nodeid, m);
		return;
	case TS_CMSG_DIGEST:
		for (size_t i = 0; i < a->n_peers; i++)
			if (a->peers[i].nodeid == nodeid)
				digest_part(a, i, nodeid, m);
		return;
	case TS_CMSG_DELETE: {
		struct ts_snapshot row;

		if (ts_catalog_get(a->catalog, m->snap_id, &row) < 0) {
			if (nodeid == a->nodeid && m->request)
				ts_agent_answer_pending(a, m->request, 3, "not_found",
							"no such snapshot", NULL);
			return;
		}
		ev.kind = TS_EV_DELETE;
		ev.request = m->request;
		ev.origin = nodeid;
		if (inflight_find(a, m->snap_id)) {
			if (nodeid == a->nodeid && m->request)
				ts_agent_answer_pending(a, m->request, 1, "in_progress",
							"the snapshot is still in progress", NULL);
		} else {
			step(a, NULL, &row, &ev);
		}
		ts_snapshot_release(&row);
		return;
	}
	case TS_CMSG_FROZEN:
		if ((f = inflight_find(a, m->snap_id)) != NULL && !f->t_frozen)
			f->t_frozen = ts_now_us();
		ev.kind = TS_EV_FROZEN;
		ev.achieved = m->achieved;
		break;
	case TS_CMSG_TAKEN:
		ts_fault("snap/taken");
		ev.kind = TS_EV_TAKEN;
		ev.node = nodeid;
		break;
	case TS_CMSG_ABORT:
		ev.kind = TS_EV_ABORT;
		snprintf(ev.reason, sizeof(ev.reason), "%s", m->reason);
		snprintf(ev.message, sizeof(ev.message), "%s", m->message);
		break;
	default:
		return;
	}
	f = inflight_find(a, m->snap_id);
	if (!f) {
		qb_log(LOG_DEBUG, "snapshot %s: message for a snapshot not in flight here",
		       m->snap_id);
		return;
	}
	step(a, f, &f->row, &ev);
}

void ts_snap_peer_lost(struct ts_agent *a, uint32_t nodeid)
{
	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++) {
		struct ts_inflight *f = &a->inflight[i];
		struct ts_snap_event ev = { .kind = TS_EV_PEER_LOST, .node = nodeid };

		if (f->used)
			step(a, f, &f->row, &ev);
	}
}

void ts_snap_membership_changed(struct ts_agent *a, bool someone_joined)
{
	memset(a->digest_from, 0, sizeof(a->digest_from));
	/* Parts of digests sent in the previous configuration are void: each
	 * PM sends its whole digest again now. */
	for (size_t i = 0; i < TS_CLUSTER_MAX_NODES; i++)
		digest_acc_reset(&a->digest_acc[i]);
	/* Every membership change starts a reconciliation round, so both PMs
	 * agree on when creates are allowed again. */
	(void)someone_joined;
	send_digest(a);
}

void ts_snap_drbd_changed(struct ts_agent *a)
{
	const struct ts_drbd_model *m = ts_drbd_mon_model(a->drbd);

	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++) {
		struct ts_inflight *f = &a->inflight[i];
		enum ts_drbd_role want;

		if (!f->used || f->row.abort_sent)
			continue;
		want = f->row.primary == a->nodeid ? TS_ROLE_PRIMARY : TS_ROLE_SECONDARY;
		for (uint32_t v = 0; v < f->row.n_volumes && f->used; v++) {
			char res[TS_DRBD_NAME_MAX];
			const struct ts_drbd_resource *r;

			ts_drbd_resource_name(f->row.vm, f->row.volumes[v], res, sizeof(res));
			r = ts_drbd_model_find(m, res);
			if (r && r->role != TS_ROLE_UNKNOWN && r->role != want) {
				struct ts_snap_event ev = { .kind = TS_EV_ROLE_CHANGE };

				qb_log(LOG_WARNING, "snapshot %s: %s became %s here (failover)",
				       f->row.id, res, ts_drbd_role_str(r->role));
				step(a, f, &f->row, &ev);
				break;
			}
		}
	}
}

bool ts_snap_refresh_store(struct ts_agent *a)
{
	uint64_t free_bytes = 0, total = 0;
	bool known = a->store && ts_store_space(a->store, &free_bytes, &total) == 0;

	/* Whole MiB, so writes inside the store do not republish constantly. */
	free_bytes &= ~((1ull << 20) - 1);
	if (known == a->report->store_known && free_bytes == a->report->store_free_bytes)
		return false;
	a->report->store_known = known;
	a->report->store_free_bytes = free_bytes;
	return true;
}

static void on_store_timer(void *data)
{
	struct ts_agent *a = data;

	reap_guards(a);
	ts_drbd_reap_stuck();
	if (ts_snap_refresh_store(a))
		ts_agent_publish_soon(a);
	qb_loop_timer_add(a->loop, QB_LOOP_LOW, STORE_REFRESH_MS * NS_PER_MS, a, on_store_timer,
			  &a->store_timer);
}

/* ---- start-up recovery ------------------------------------------------------------------ */

static void resume_intents(struct ts_agent *a)
{
	struct ts_catalog_intent *in = NULL;
	size_t n = 0;

	if (ts_catalog_intents(a->catalog, &in, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct ts_inflight f;

		memset(&f, 0, sizeof(f));
		f.agent = a;
		f.guard_fd = -1;
		snprintf(f.row.id, sizeof(f.row.id), "%s", in[i].id);
		snprintf(f.row.vm, sizeof(f.row.vm), "%s", in[i].vm);
		f.n_minors = in[i].n_minors;
		memcpy(f.minors, in[i].minors, sizeof(f.minors));
		f.fsfrozen = in[i].fsfrozen;
		f.held = true;
		f.from_intent = true;
		f.held_since_ms = ts_now_ms();
		qb_log(LOG_WARNING, "snapshot %s: resuming I/O of %s that a previous run left "
		       "suspended", in[i].id, in[i].vm);
		resume_io(a, &f);
	}
	free(in);
}

static void recover_row(struct ts_agent *a, const struct ts_catalog_key *listed, void *ctx)
{
	struct ts_snap_event ev = { .kind = TS_EV_RESTART };
	struct ts_snapshot row;

	(void)ctx;
	if (listed->phase == TS_PH_PENDING || ts_catalog_get(a->catalog, listed->id, &row) < 0)
		return;
	step(a, NULL, &row, &ev);
	ts_snapshot_release(&row);
}

/* Only broken rows can be in flight. */
static void recover_rows(struct ts_agent *a)
{
	walk_rows(a, TS_SNAP_BROKEN, recover_row, NULL);
}

static int remove_orphan(void *ctx, const char *id, const char *volume, const char *path)
{
	struct ts_agent *a = ctx;

	if (ts_catalog_has(a->catalog, id))
		return 0;
	qb_log(LOG_WARNING, "store: piece %s has no catalog row: removing it", path);
	ts_store_remove(a->store, id, volume);
	return 0;
}

int ts_snap_init(struct ts_agent *a, char **errmsg)
{
	char *err = NULL;
	int rc = ts_catalog_open(a->cfg->state_dir, &a->catalog, errmsg);

	if (rc < 0)
		return rc;
	if (ts_store_open(a->cfg->store_backend, a->cfg->store_dir, &a->store, &err) < 0) {
		qb_log(LOG_ERR, "store: %s; snapshots will be refused", err);
		free(err);
		a->store = NULL;
	}
	resume_intents(a);
	recover_rows(a);
	if (a->store)
		ts_store_list(a->store, remove_orphan, a);
	ts_snap_refresh_store(a);
	qb_loop_timer_add(a->loop, QB_LOOP_LOW, STORE_REFRESH_MS * NS_PER_MS, a, on_store_timer,
			  &a->store_timer);
	return 0;
}

void ts_snap_fini(struct ts_agent *a)
{
	ts_hv_disconnect();
	for (size_t i = 0; i < TS_MAX_INFLIGHT; i++) {
		struct ts_inflight *f = &a->inflight[i];

		if (!f->used)
			continue;
		/* A clean stop still never leaves I/O held. */
		if (f->held)
			resume_io(a, f);
		inflight_drop(f);
	}
	for (size_t i = 0; i < TS_CLUSTER_MAX_NODES; i++)
		digest_acc_reset(&a->digest_acc[i]);
	if (a->catalog)
		qb_loop_timer_del(a->loop, a->store_timer);
	if (a->slot_job_queued)
		qb_loop_job_del(a->loop, QB_LOOP_HIGH, a, on_slot_free);
	a->slot_job_queued = false;
	ts_snap_ipc_fini(a);
	ts_store_close(a->store);
	ts_catalog_close(a->catalog);
}

/* ---- ids ------------------------------------------------------------------------------------ */

void ts_snap_new_id(char id[TS_SNAP_ID_LEN + 1]);

void ts_snap_new_id(char id[TS_SNAP_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[TS_SNAP_ID_LEN / 2];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		abort();
	for (size_t i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[TS_SNAP_ID_LEN] = '\0';
}
