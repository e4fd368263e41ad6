/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store — the PM's volume store and the snapshot pieces in it.  A volume of
 * a VM is named by the DRBD resource "<vm>-<volume>"; a piece is this PM's
 * point-in-time copy of one volume for one snapshot.  Callers name things
 * only by validated snapshot id, VM name and volume name, never by path:
 * the store builds every path itself.  Behind the calls sits a backend
 * ("reflink" now; "lvm-thin" can be added without touching callers).
 *
 * reflink layout, DIR being the store directory:
 *   DIR/<vm>-<volume>.img                      the live volume (never written)
 *   DIR/.twinsnap/<snapshot-id>/<volume>.img   a piece: a FICLONE of the volume
 *   DIR/.twinsnap/<snapshot-id>/<volume>.img.tmp  a piece being made
 *
 * A store handle is not thread-safe, and one process at a time should use
 * a store directory (ts_store_list removes what looks like a crashed take).
 * All calls block on the filesystem; a reflink take is a metadata operation
 * (sub-millisecond to a few milliseconds), so the agent calls it inline.
 */
#ifndef TS_STORE_H
#define TS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ts_store;

/**
 * Open the store of backend @backend ("reflink") at @dir (where the
 * backend keeps volumes; for reflink a directory).  @dir must exist and be
 * a directory; its filesystem must support reflinks, which is tested by
 * cloning a probe file in DIR/.twinsnap/ (created when missing).  A store
 * too full for the probe still opens, with a warning, so that snapshots
 * can be deleted to give the space back.
 * On failure returns -errno (-EINVAL: unknown backend; -ENOENT, -ENOTDIR;
 * -ELOOP: DIR/.twinsnap is a symlink; -EOPNOTSUPP / -EXDEV / ...: no
 * reflink) and sets *errmsg (malloc'd, the caller frees) to a sentence
 * naming @dir.
 */
int ts_store_open(const char *backend, const char *dir, struct ts_store **out, char **errmsg);
/** Close @s (NULL is fine); pieces stay on disk. */
void ts_store_close(struct ts_store *s);

/** The backend's name ("reflink"); owned by the store. */
const char *ts_store_backend(const struct ts_store *s);

/*
 * The calls below that take names return -EINVAL, touching nothing, unless
 * @id is a valid snapshot id (ts_snapshot_id_valid: 32 lowercase hex), @vm a
 * valid VM name (ts_vm_name_valid) and @volume a valid volume name
 * (ts_volume_name_valid), all in core/snapshot.h.  Paths are written to
 * @buf of @len bytes, NUL-terminated; -ERANGE when they do not fit.
 */

/** Path of the live volume @volume of @vm: DIR/<vm>-<volume>.img. */
int ts_store_volume_path(struct ts_store *s, const char *vm, const char *volume,
			 char *buf, size_t len);
/** Size in bytes of that volume; -ENOENT when missing, -EINVAL when not a regular file. */
int ts_store_volume_size(struct ts_store *s, const char *vm, const char *volume,
			 uint64_t *bytes);

/**
 * Take this PM's piece of @volume of @vm for snapshot @id, durably: on
 * return 0 the piece and its directory entries are on stable storage, and
 * its path is in @piece_path (may be NULL when @len is 0).  The piece holds
 * every write to the volume that completed before the call (the kernel
 * writes dirty pages back before sharing extents); quiescing writers is the
 * caller's business.  The live volume is only ever opened read-only.
 * On failure nothing new is left behind (no temp file, no empty snapshot
 * directory this call created) and the result is -errno: -ENOENT (no such
 * volume), -EINVAL (not a regular file), -EEXIST (the piece exists already;
 * remove it first: a piece never changes), -ENOSPC, -EXDEV (the volume is
 * on another filesystem), -EOPNOTSUPP, -EIO, ...
 */
int ts_store_take(struct ts_store *s, const char *id, const char *vm, const char *volume,
		  char *piece_path, size_t len);

/**
 * Remove the piece of @volume of snapshot @id, or every piece of @id when
 * @volume is NULL, and the snapshot's directory once it holds nothing; the
 * removal is durable on return.  What is already gone counts as removed, so
 * recovery can repeat the call.  Files in the snapshot directory that the
 * store did not make are left alone (and keep the directory).
 */
int ts_store_remove(struct ts_store *s, const char *id, const char *volume);

/**
 * Called for each piece by ts_store_list with the snapshot id, the volume
 * name and the piece's path (all valid only during the call).  Return 0 to
 * go on; anything else stops the listing and is returned by ts_store_list.
 * The callback may remove pieces (ts_store_remove) of any snapshot.
 */
typedef int (*ts_store_list_cb)(void *ctx, const char *id, const char *volume,
				const char *path);

/**
 * Report every piece on disk, in id then volume order, for orphan detection.
 * Entries whose names are no valid id / volume are logged and skipped.
 * Leftovers of a crashed take (temp files, then-empty snapshot directories,
 * probe files) are logged and removed.  0, -errno or the callback's value.
 */
int ts_store_list(struct ts_store *s, ts_store_list_cb cb, void *ctx);

/** Free space (available to the agent) and total size of the store, in bytes. */
int ts_store_space(struct ts_store *s, uint64_t *free_bytes, uint64_t *total_bytes);

/**
 * The space a snapshot of volumes of @volume_bytes[0..n) sizes may come to
 * need in the store, to compare with ts_store_space's free bytes.
 *
 * reflink: taking a piece costs only metadata, but the piece keeps the
 * volume's old extents while the VM overwrites them, so a piece grows
 * towards the full size of its volume as the two diverge.  The estimate is
 * that worst case: the sum of the volume sizes (saturating at UINT64_MAX).
 * Refusing on it means that a snapshot never fills the store that the
 * running VMs write to, at the price of refusing some that would fit today.
 */
uint64_t ts_store_estimate(struct ts_store *s, const uint64_t *volume_bytes, size_t n);

/* ---- Backend interface: for store.c and the store_<backend>.c files only.
 * store.c validates names and arguments and then dispatches; a backend
 * trusts what it is given, except names read back from disk. */

struct ts_store_ops {
	const char *name;
	/** Check @dir and make the backend's state *priv; errors as ts_store_open. */
	int (*open)(const char *dir, void **priv, char **errmsg);
	void (*close)(void *priv);
	int (*volume_path)(void *priv, const char *vm, const char *volume, char *buf, size_t len);
	int (*volume_size)(void *priv, const char *vm, const char *volume, uint64_t *bytes);
	int (*take)(void *priv, const char *id, const char *vm, const char *volume,
		    char *piece_path, size_t len);
	int (*remove)(void *priv, const char *id, const char *volume);
	int (*list)(void *priv, ts_store_list_cb cb, void *ctx);
	int (*space)(void *priv, uint64_t *free_bytes, uint64_t *total_bytes);
	uint64_t (*estimate)(void *priv, const uint64_t *volume_bytes, size_t n);
};

/** The reflink backend (store_reflink.c). */
extern const struct ts_store_ops ts_store_reflink_ops;

#endif
