/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog — this PM's durable record of snapshots in SQLite (DIR/catalog.db,
 * WAL, synchronous=FULL, foreign keys on): the snapshot rows, the pieces
 * that exist on this PM's store, tombstones of deleted snapshots (deletions
 * win on reconciliation), the event log, and freeze intents (recorded before
 * I/O is suspended so a restarted agent resumes it).
 *
 * Every mutating call is atomic on its own.  A caller can group several
 * calls with ts_catalog_begin()/ts_catalog_commit()/ts_catalog_abort(); calls
 * made in between join that transaction (and reads see its writes), and a
 * call that fails inside it undoes only its own changes: the transaction
 * stays usable.
 *
 * Inputs are validated here (ids, VM and volume names, text as valid UTF-8
 * without control characters): an invalid input returns -EINVAL and writes
 * nothing.  Data only ever reaches SQL as bound parameters.
 *
 * Return values: 0 or a negative errno.  -EIO means SQLite failed (logged
 * through qb_log).  Not thread-safe: one handle, one thread (the main loop).
 */
#ifndef TS_CATALOG_H
#define TS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/snapshot.h"

#define TS_CATALOG_PATH_MAX 4096        /* piece path, incl. NUL */

struct ts_catalog;

/** A piece: one volume of one snapshot as it exists on this PM's store. */
struct ts_catalog_piece {
	char id[TS_SNAP_ID_LEN + 1];
	char volume[TS_VOLUME_NAME_MAX];
	char path[TS_CATALOG_PATH_MAX];
};

/** A freeze intent: what to resume (and thaw) if the agent dies frozen. */
struct ts_catalog_intent {
	char id[TS_SNAP_ID_LEN + 1];
	char vm[TS_VM_NAME_LEN_MAX];
	bool fsfrozen;                  /* the guest's filesystems were frozen */
	size_t n_minors;
	int minors[TS_SNAP_MAX_VOLUMES];        /* DRBD minors whose I/O is suspended */
};

/**
 * Open DIR/catalog.db, creating the directory (0700), the database and its
 * schema when needed, and take DIR/catalog.lock (one writer per catalog).
 * A database whose schema is newer than this program's is refused.
 *
 * @param dir     state directory
 * @param out     the new handle; NULL on failure.  Close with ts_catalog_close().
 * @param errmsg  on failure a malloc'd message for the admin (caller frees);
 *                untouched on success
 * @return 0; -EBUSY (another handle or process has it open); -errno (the
 *         directory or lock file); -EIO (not a database, newer schema, SQLite)
 */
int ts_catalog_open(const char *dir, struct ts_catalog **out, char **errmsg);

/** Close the handle (NULL is fine); an open explicit transaction is rolled back. */
void ts_catalog_close(struct ts_catalog *c);

/**
 * Start an explicit write transaction.  Calls until ts_catalog_commit() or
 * ts_catalog_abort() join it.
 * @return 0; -EBUSY if one is already open; -EIO
 */
int ts_catalog_begin(struct ts_catalog *c);

/**
 * Commit the explicit transaction (durable when this returns 0).  On failure
 * everything since ts_catalog_begin() is rolled back.  Either way the
 * transaction is over.
 * @return 0; -EINVAL if none is open; -EIO
 */
int ts_catalog_commit(struct ts_catalog *c);

/** Roll back the explicit transaction; nothing happens if none is open. */
void ts_catalog_abort(struct ts_catalog *c);

/**
 * Insert a snapshot row or replace every field of an existing one: volumes
 * with their sizes, taken_by, sent_taken, current_config and domain_xml
 * (NULL stores no XML; otherwise non-empty valid UTF-8 under 16 MiB, no
 * control characters but \t \n \r).  Volume names must be distinct.  The
 * pieces of the row are kept.  The row is read, not taken over: the caller
 * keeps owning @s and its domain_xml.
 * @return 0; -EINVAL for an invalid field (nothing written); -ESTALE if the
 *         id is tombstoned (a deleted snapshot never comes back); -EIO
 */
int ts_catalog_put(struct ts_catalog *c, const struct ts_snapshot *s);

/**
 * Read one row.  @out is overwritten (whatever it owned before is not
 * released); on success out->domain_xml is malloc'd or NULL and the caller
 * releases it with ts_snapshot_release().
 * @return 0; -ENOENT; -EINVAL (invalid id); -EIO (also for a stored row
 *         that does not fit the struct)
 */
int ts_catalog_get(struct ts_catalog *c, const char *id, struct ts_snapshot *out);

/**
 * Rows ordered by created_at_ms, then id; domain_xml is always NULL (the XML
 * is not read, so listing stays fast).
 * @param vm     only this VM's rows, or NULL for all
 * @param state  TS_SNAP_NORMAL or TS_SNAP_BROKEN to filter, -1 for all
 * @param rows   malloc'd array (NULL when *n is 0); free with ts_catalog_rows_free()
 * @return 0; -EINVAL (invalid VM name or state); -EIO
 */
int ts_catalog_list(struct ts_catalog *c, const char *vm, int state,
		    struct ts_snapshot **rows, size_t *n);

/** Where a paged listing goes on: after this row (in list order). */
struct ts_catalog_cursor {
	int64_t created_at_ms;
	char id[TS_SNAP_ID_LEN + 1];
};
#define TS_CATALOG_CURSOR_START { INT64_MIN, "" }
#define TS_CATALOG_PAGE_MAX 10000

/**
 * At most @limit (1..TS_CATALOG_PAGE_MAX) rows after @cur, in the order of
 * ts_catalog_list(), so a catalog of any size is walked in bounded memory.
 * @cur moves to the last row returned; *more tells whether rows follow.
 * Free @rows with ts_catalog_rows_free().  @return 0; -EINVAL; -EIO
 */
int ts_catalog_list_page(struct ts_catalog *c, const char *vm, int state,
			 struct ts_catalog_cursor *cur, size_t limit, struct ts_snapshot **rows,
			 size_t *n, bool *more);

/** What a walk of the whole catalog needs of a row (digest, reconciliation, recovery). */
struct ts_catalog_key {
	int64_t created_at_ms;
	char id[TS_SNAP_ID_LEN + 1];
	enum ts_snap_phase phase;
};

/**
 * Like ts_catalog_list_page() of every VM, but only each row's key and
 * phase, into the caller's @keys (room for @limit).  They are read from the
 * time index alone, no table row: at 100,000 rows a walk costs a fraction
 * of one of whole rows.  @return 0; -EINVAL; -EIO
 */
int ts_catalog_keys_page(struct ts_catalog *c, int state, struct ts_catalog_cursor *cur,
			 size_t limit, struct ts_catalog_key *keys, size_t *n, bool *more);

/**
 * A number that changes whenever this process writes to the catalog (no
 * other process does while the agent runs): a page read ahead is still
 * what a read now would return while it is the same.
 */
uint64_t ts_catalog_generation(struct ts_catalog *c);

/** Free an array from ts_catalog_list() (NULL is fine). */
void ts_catalog_rows_free(struct ts_snapshot *rows, size_t n);

/**
 * Number of the VM's snapshots in flight: phase neither NORMAL nor PENDING.
 * @return 0; -EINVAL (invalid VM name); -EIO
 */
int ts_catalog_count_in_flight(struct ts_catalog *c, const char *vm, size_t *n);

/**
 * Delete a snapshot: its row, its XML and its piece rows (the caller
 * deletes the files: read ts_catalog_pieces() first) and record a
 * tombstone (id, @now_ms; an existing tombstone keeps the later time).
 * Succeeds, and records the tombstone, also when the row does not exist,
 * so adopting a peer's deletion is the same call.  Freeze intents are not
 * touched.
 * @return 0; -EINVAL (invalid id); -EIO
 */
int ts_catalog_remove(struct ts_catalog *c, const char *id, int64_t now_ms);

/** Whether @id has a row (false also for an invalid id or an error): no
 * row is read, so start-up can check every piece of a large store. */
bool ts_catalog_has(struct ts_catalog *c, const char *id);

/** Whether @id has a tombstone (false also for an invalid id or an error). */
bool ts_catalog_tombstoned(struct ts_catalog *c, const char *id);

/**
 * Every tombstoned id, ordered.  *ids is malloc'd (NULL when *n is 0); the
 * caller frees it with free().
 * @return 0; -EIO
 */
int ts_catalog_tombstones(struct ts_catalog *c, char (**ids)[TS_SNAP_ID_LEN + 1], size_t *n);

/** Forget tombstones recorded before @older_than_ms. @return 0; -EIO */
int ts_catalog_prune_tombstones(struct ts_catalog *c, int64_t older_than_ms);

/**
 * Record (or re-point) the piece of @volume of snapshot @id at @path.
 * @path is text (non-empty valid UTF-8, no control characters, fewer than
 * TS_CATALOG_PATH_MAX bytes); it is stored, never interpreted.
 * @return 0; -EINVAL; -ENOENT (no such snapshot row); -EIO
 */
int ts_catalog_piece_add(struct ts_catalog *c, const char *id, const char *volume,
			 const char *path);

/**
 * Pieces of snapshot @id, or of every snapshot when @id is NULL, ordered by
 * id then volume.  *out is malloc'd (NULL when *n is 0); the caller frees
 * it with free().
 * @return 0; -EINVAL (invalid id); -EIO
 */
int ts_catalog_pieces(struct ts_catalog *c, const char *id, struct ts_catalog_piece **out,
		      size_t *n);

/** Forget one piece. @return 0; -ENOENT; -EINVAL; -EIO */
int ts_catalog_piece_remove(struct ts_catalog *c, const char *id, const char *volume);

/**
 * Append to the event log and set e->seq to the assigned sequence number:
 * increasing, and never reused once committed (a seq handed out inside an
 * explicit transaction that is then aborted is handed out again).
 * kind is 1..23 of [a-z0-9_]; reason "" or 1..39 of [a-z0-9_]; snapshot ""
 * or an id; vm "" or a VM name; message valid UTF-8 without control
 * characters but \n and \t.
 * @return 0; -EINVAL (nothing written); -EIO
 */
int ts_catalog_event_add(struct ts_catalog *c, struct ts_event *e);

/**
 * Events with seq > @after_seq in seq order, at most @limit (0: no limit).
 * Page by passing the last seq returned.  *out is malloc'd (NULL when *n is
 * 0); the caller frees it with free().
 * @return 0; -EIO
 */
int ts_catalog_events(struct ts_catalog *c, int64_t after_seq, size_t limit,
		      struct ts_event **out, size_t *n);

/**
 * Record, before suspending I/O, that snapshot @id is about to suspend the
 * DRBD minors @minors (0..2^20-1, at most TS_SNAP_MAX_VOLUMES) of @vm and
 * whether the guest is being fsfrozen.  Replaces an intent of the same id.
 * Independent of the snapshot row: removing the row keeps the intent.
 * @return 0; -EINVAL; -EIO
 */
int ts_catalog_intent_add(struct ts_catalog *c, const char *id, const int *minors,
			  size_t n_minors, bool fsfrozen, const char *vm);

/**
 * Every recorded intent, ordered by id.  *out is malloc'd (NULL when *n is
 * 0); the caller frees it with free().
 * @return 0; -EIO
 */
int ts_catalog_intents(struct ts_catalog *c, struct ts_catalog_intent **out, size_t *n);

/** Forget the intent of @id once I/O is resumed. @return 0; -ENOENT; -EINVAL; -EIO */
int ts_catalog_intent_clear(struct ts_catalog *c, const char *id);

#endif
