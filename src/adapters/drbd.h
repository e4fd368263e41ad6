/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * drbd — follows local DRBD through `drbdsetup events2 --statistics
 * --timestamps --poll all`: reads its stream into a drbd_model, asks for a
 * statistics refresh every poll interval (the kernel sends no event when
 * only counters change), logs what drbdsetup says on stderr, and restarts it
 * with exponential backoff when it exits — rebuilding the picture from the
 * new `exists` dump, as DRBD's own consumers do.
 */
#ifndef TS_DRBD_H
#define TS_DRBD_H

#include <qb/qbloop.h>
#include <stdbool.h>

#include "core/drbd_model.h"

struct ts_drbd_mon_config {
	const char *drbdsetup;
	unsigned poll_interval_ms;
	unsigned restart_min_ms;
	unsigned restart_max_ms;
};

/** Called after a batch of lines changed the model (or it was reset). */
typedef void (*ts_drbd_changed_fn)(void *ctx);

struct ts_drbd_mon;

int ts_drbd_mon_create(qb_loop_t *loop, const struct ts_drbd_mon_config *cfg,
		       ts_drbd_changed_fn changed, void *ctx, struct ts_drbd_mon **out);
/** Stops drbdsetup (SIGTERM, then reaps it). */
void ts_drbd_mon_destroy(struct ts_drbd_mon *m);

const struct ts_drbd_model *ts_drbd_mon_model(const struct ts_drbd_mon *m);
/** drbdsetup is running and its initial dump is complete. */
bool ts_drbd_mon_ready(const struct ts_drbd_mon *m);

/**
 * Run `drbdsetup ARGS...` (@args NULL-terminated, without argv[0]) and wait
 * at most @timeout_ms.  *out (if given) receives its stdout, malloc'd.
 * 0 when it exited 0; -ETIMEDOUT when it had to be killed; -EIO with
 * *errmsg (its first stderr line, or how it ended) otherwise.  Blocks the
 * caller: for the short commands of a snapshot (suspend-io, resume-io,
 * a statistics read), never for the events2 stream.
 */
int ts_drbd_run(const char *drbdsetup, const char *const *args, int timeout_ms, char **out,
		char **errmsg);

/**
 * Run `drbdsetup VERB MINOR` for each of @minors at the same time (the
 * suspend-io and resume-io of a snapshot's volumes) and wait for all, at
 * most @timeout_ms in all.  @failed[i] tells which failed; the return is
 * the first failure (-errno, *errmsg set) or 0.
 */
int ts_drbd_run_each(const char *drbdsetup, const char *verb, const int *minors, size_t n,
		     int timeout_ms, bool *failed, char **errmsg);

/**
 * A drbdsetup run on the agent's loop, so that the loop serves others (IPC,
 * CPG, other snapshots) while it runs: ts_drbd_job_start() starts it and
 * returns; @done gets its result once, as ts_drbd_run() would return it
 * (@out its stdout, @errmsg NULL when @rc is 0; both valid during the call
 * only).  The deadline kills it (-ETIMEDOUT).
 */
struct ts_drbd_job;
typedef void (*ts_drbd_job_fn)(void *data, int rc, const char *out, const char *errmsg);

int ts_drbd_job_start(qb_loop_t *loop, const char *drbdsetup, const char *const *args,
		      int timeout_ms, ts_drbd_job_fn done, void *data, struct ts_drbd_job **job);
/** Wait for @job to end (at most its deadline), without calling its @done. */
void ts_drbd_job_reap(struct ts_drbd_job *job);

/**
 * Reap the drbdsetup children that outlived SIGKILL (stuck in the kernel;
 * ts_drbd_run and the monitor give up waiting for them).  Returns how many
 * are still there.
 */
int ts_drbd_reap_stuck(void);

/** What the drain of a snapshot needs to know of one resource. */
struct ts_drbd_drain {
	/* writes not yet acknowledged by the peer: the connections' ap-in-flight
	 * (sectors) plus the peer devices' pending and unacked requests */
	uint64_t in_flight;
	/* every connection Connected, every peer device Established with an
	 * UpToDate peer disk and nothing out of sync: a write the peer never
	 * got cannot hide behind an in-flight count of 0 */
	bool replicating;
	char why[160];          /* when not replicating: what is broken */
};

/**
 * The drain state of @resources (@n of them) in @model, read from
 * `drbdsetup events2 --now --statistics RES` (one per resource): the sum
 * of their writes in flight, and whether all of them replicate (@out->why
 * names the first that does not).  Drained means in_flight == 0 while
 * replicating.  -ENOENT (and *@errmsg) when one of them is not in @model.
 */
int ts_drbd_drain_eval(const struct ts_drbd_model *model, const char *const *resources, size_t n,
		       struct ts_drbd_drain *out, char **errmsg);

/**
 * Which of @minors DRBD shows suspended (their resource's `suspended:` is
 * not `no`), read fresh with one `drbdsetup events2 --now`; a minor it does
 * not list counts as suspended.  Real DRBD 8.4's resume-io of a device that
 * is NOT suspended waits until no application write is pending, for ever if
 * one is stuck, holding DRBD's configuration mutex: resume only what this
 * says is suspended when someone else may have resumed it already.
 */
int ts_drbd_minors_suspended(const char *drbdsetup, const int *minors, size_t n, int timeout_ms,
			     bool *suspended, char **errmsg);

#endif
