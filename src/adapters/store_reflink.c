/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_reflink — the reflink backend of the volume store: volumes are files
 * on a filesystem with shared extents (XFS -m reflink=1, btrfs) and a piece
 * is an ioctl(FICLONE) of one, made durable the rdbSave way (temp file →
 * fsync → rename → fsync the directory).  Layout in store.h.  Names reach
 * this file validated by store.c; names read back from disk are checked here.
 */
#include "config.h"
#include "adapters/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/snapshot.h"
#include "util.h"

#define PIECES_DIR ".twinsnap"
#define PIECE_SUFFIX ".img"
#define TEMP_SUFFIX ".img.tmp"
#define PROBE_PREFIX ".probe-"

/* "<vm>-<volume>.img" and "<volume>.img.tmp" with the longest valid names. */
#define RES_NAME_MAX (TS_VM_NAME_LEN_MAX + TS_VOLUME_NAME_MAX + sizeof(PIECE_SUFFIX))
#define PIECE_NAME_MAX (TS_VOLUME_NAME_MAX + sizeof(TEMP_SUFFIX))
/* ".twinsnap/<id>" */
#define SNAP_REL_MAX (sizeof(PIECES_DIR) + 1 + TS_SNAP_ID_LEN)

struct reflink {
	char *dir;              /* as configured, without trailing slashes */
	int dirfd;              /* DIR */
	int tsfd;               /* DIR/.twinsnap */
};

enum entry_kind { ENTRY_OTHER, ENTRY_PIECE, ENTRY_TEMP };

static void res_name(char *buf, const char *vm, const char *volume)
{
	snprintf(buf, RES_NAME_MAX, "%s-%s" PIECE_SUFFIX, vm, volume);
}

static void piece_name(char *buf, const char *volume, const char *suffix)
{
	snprintf(buf, PIECE_NAME_MAX, "%s%s", volume, suffix);
}

static void snap_rel(char *buf, const char *id)
{
	snprintf(buf, SNAP_REL_MAX, PIECES_DIR "/%.*s", TS_SNAP_ID_LEN, id);
}

/* A file name in a snapshot directory: a piece, a temp file, or foreign. */
static enum entry_kind classify(const char *name, char volume[TS_VOLUME_NAME_MAX])
{
	static const struct { const char *suffix; enum entry_kind kind; } kinds[] = {
		{ TEMP_SUFFIX, ENTRY_TEMP },
		{ PIECE_SUFFIX, ENTRY_PIECE },
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t sl = strlen(kinds[i].suffix);

		if (n <= sl || n - sl >= TS_VOLUME_NAME_MAX ||
		    strcmp(name + n - sl, kinds[i].suffix) != 0)
			continue;
		memcpy(volume, name, n - sl);
		volume[n - sl] = '\0';
		return ts_volume_name_valid(volume) ? kinds[i].kind : ENTRY_OTHER;
	}
	return ENTRY_OTHER;
}

static int path_into(char *buf, size_t len, const char *dir, const char *a, const char *b)
{
	int n = b ? snprintf(buf, len, "%s/%s/%s", dir, a, b) : snprintf(buf, len, "%s/%s", dir, a);

	return n < 0 || (size_t)n >= len ? -ERANGE : 0;
}

/* @rel: the directory of @name relative to the store directory. */
static void log_skipped(const struct reflink *r, const char *rel, const char *name,
			const char *why)
{
	char safe[80];

	ts_sanitize_for_log(name, safe, sizeof(safe));
	qb_log(LOG_WARNING, "store: skipping %s/%s/%s: %s", r->dir, rel, safe, why);
}

/*
 * Clone a tiny file inside DIR/.twinsnap.  A store so full that the probe
 * cannot be written is let through with a warning: the agent must still
 * start, if only to delete snapshots and give the space back.
 */
static int probe_reflink(struct reflink *r, char **errmsg)
{
	static const char data[] = "twinsnap reflink probe\n";
	char src_name[32], dst_name[40];
	int src, dst = -1, rc = 0;
	ssize_t w;

	snprintf(src_name, sizeof(src_name), PROBE_PREFIX "%ld", (long)getpid());
	snprintf(dst_name, sizeof(dst_name), "%s.clone", src_name);
	unlinkat(r->tsfd, src_name, 0);
	unlinkat(r->tsfd, dst_name, 0);
	src = openat(r->tsfd, src_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (src < 0) {
		rc = -errno;
		goto failed;
	}
	w = write(src, data, sizeof(data) - 1);
	if (w != (ssize_t)(sizeof(data) - 1)) {
		rc = w < 0 ? -errno : -EIO;
		goto close_src;
	}
	dst = openat(r->tsfd, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dst < 0) {
		rc = -errno;
		goto close_src;
	}
	if (ioctl(dst, FICLONE, src) < 0) {
		rc = -errno;
		if (rc != -ENOSPC && rc != -EDQUOT)
			*errmsg = ts_xasprintf("%s: filesystem does not support reflink "
					       "(FICLONE): %s", r->dir, strerror(-rc));
	}
	close(dst);
	unlinkat(r->tsfd, dst_name, 0);
close_src:
	close(src);
	unlinkat(r->tsfd, src_name, 0);
failed:
	if (rc == -ENOSPC || rc == -EDQUOT) {
		qb_log(LOG_WARNING, "store: %s is full: cannot check for reflink support (%s)",
		       r->dir, strerror(-rc));
		return 0;
	}
	if (rc < 0 && !*errmsg)
		*errmsg = ts_xasprintf("%s/" PIECES_DIR ": cannot write a reflink probe file: %s",
				       r->dir, strerror(-rc));
	return rc;
}

static int reflink_open(const char *dir, void **priv, char **errmsg)
{
	struct reflink *r = ts_xcalloc(1, sizeof(*r));
	size_t n = strlen(dir);
	bool made = false;
	int rc;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	r->dir = ts_xasprintf("%.*s", (int)n, dir);
	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		rc = -errno;
		*errmsg = rc == -ENOENT ? ts_xasprintf("%s: no such store directory", r->dir)
			: rc == -ENOTDIR ? ts_xasprintf("%s: store path is not a directory", r->dir)
			: ts_xasprintf("%s: cannot open the store directory: %s", r->dir,
				       strerror(-rc));
		goto free_r;
	}
	if (mkdirat(r->dirfd, PIECES_DIR, 0700) == 0) {
		made = true;
	} else if (errno != EEXIST) {
		rc = -errno;
		*errmsg = ts_xasprintf("%s: cannot create " PIECES_DIR ": %s", r->dir,
				       strerror(-rc));
		goto close_dir;
	}
	/* O_NOFOLLOW: a symlink planted here would aim deletions elsewhere. */
	r->tsfd = openat(r->dirfd, PIECES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->tsfd < 0) {
		struct stat st;

		rc = -errno;
		if (fstatat(r->dirfd, PIECES_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			rc = -ELOOP;
		*errmsg = ts_xasprintf("%s/" PIECES_DIR ": cannot open: %s", r->dir,
				       rc == -ELOOP ? "is a symbolic link" : strerror(-rc));
		goto rm_pieces_dir;
	}
	rc = probe_reflink(r, errmsg);
	if (rc < 0)
		goto close_ts;
	if (made && fsync(r->dirfd) < 0) {
		rc = -errno;
		*errmsg = ts_xasprintf("%s: fsync: %s", r->dir, strerror(-rc));
		goto close_ts;
	}
	qb_log(LOG_INFO, "store: reflink store at %s", r->dir);
	*priv = r;
	return 0;
close_ts:
	close(r->tsfd);
rm_pieces_dir:
	if (made)
		unlinkat(r->dirfd, PIECES_DIR, AT_REMOVEDIR);
close_dir:
	close(r->dirfd);
free_r:
	free(r->dir);
	free(r);
	return rc;
}

static void reflink_close(void *priv)
{
	struct reflink *r = priv;

	close(r->tsfd);
	close(r->dirfd);
	free(r->dir);
	free(r);
}

static int reflink_volume_path(void *priv, const char *vm, const char *volume,
			       char *buf, size_t len)
{
	struct reflink *r = priv;
	char res[RES_NAME_MAX];

	res_name(res, vm, volume);
	return path_into(buf, len, r->dir, res, NULL);
}

static int reflink_volume_size(void *priv, const char *vm, const char *volume, uint64_t *bytes)
{
	struct reflink *r = priv;
	char res[RES_NAME_MAX];
	struct stat st;

	res_name(res, vm, volume);
	if (fstatat(r->dirfd, res, &st, 0) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

/*
 * Open (with @create: make) the directory of snapshot @id.  A new entry is
 * made durable by the caller's final fsync of DIR/.twinsnap: one log force
 * fewer than an fsync here, and nobody relies on it before the call returns.
 */
static int open_snapdir(struct reflink *r, const char *id, bool create, bool *made)
{
	int fd;

	*made = false;
	if (create) {
		if (mkdirat(r->tsfd, id, 0700) == 0)
			*made = true;
		else if (errno != EEXIST)
			return -errno;
	}
	fd = openat(r->tsfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		if (*made)
			unlinkat(r->tsfd, id, AT_REMOVEDIR);
		*made = false;
	}
	return fd;
}

/* Remove the snapshot directory if empty; durable when it went. */
static int drop_snapdir_if_empty(struct reflink *r, const char *id)
{
	if (unlinkat(r->tsfd, id, AT_REMOVEDIR) == 0)
		return fsync(r->tsfd) < 0 ? -errno : 0;
	if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT)
		return 0;
	return -errno;
}

static int reflink_take(void *priv, const char *id, const char *vm, const char *volume,
			char *piece_path, size_t len)
{
	struct reflink *r = priv;
	char res[RES_NAME_MAX], piece[PIECE_NAME_MAX], tmp[PIECE_NAME_MAX];
	char sub[SNAP_REL_MAX];
	struct stat st;
	int vfd, idfd, tfd = -1;
	bool made_dir;
	int rc;

	res_name(res, vm, volume);
	piece_name(piece, volume, PIECE_SUFFIX);
	piece_name(tmp, volume, TEMP_SUFFIX);
	snap_rel(sub, id);
	if (piece_path && (rc = path_into(piece_path, len, r->dir, sub, piece)) < 0)
		return rc;

	/* The live volume: read-only, whatever happens below. */
	vfd = openat(r->dirfd, res, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (vfd < 0) {
		rc = -errno;
		goto failed;
	}
	if (fstat(vfd, &st) < 0) {
		rc = -errno;
		goto close_vol;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto close_vol;
	}
	idfd = open_snapdir(r, id, true, &made_dir);
	if (idfd < 0) {
		rc = idfd;
		goto close_vol;
	}
	if (fstatat(idfd, piece, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = -EEXIST;
		goto drop_dir;
	} else if (errno != ENOENT) {
		rc = -errno;
		goto drop_dir;
	}
	/* A crash mid-take leaves the temp file; start over. */
	if (unlinkat(idfd, tmp, 0) < 0 && errno != ENOENT) {
		rc = -errno;
		goto drop_dir;
	}
	tfd = openat(idfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (tfd < 0) {
		rc = -errno;
		goto drop_dir;
	}
	/*
	 * The kernel writes the volume's dirty pages back before it shares
	 * the extents, so the piece holds every write completed before now.
	 */
	if (ioctl(tfd, FICLONE, vfd) < 0 || fsync(tfd) < 0) {
		rc = -errno;
		goto unlink_tmp;
	}
	rc = close(tfd) < 0 ? -errno : 0;
	tfd = -1;
	if (rc < 0)
		goto unlink_tmp;
	/* NOREPLACE: a piece, once made, never changes under a snapshot. */
	if (renameat2(idfd, tmp, idfd, piece, RENAME_NOREPLACE) < 0) {
		rc = -errno;
		goto unlink_tmp;
	}
	/* The piece's entry, then the snapshot directory's (also when it existed:
	 * a take that failed after mkdir may have left it unsynced). */
	if (fsync(idfd) < 0 || fsync(r->tsfd) < 0) {
		rc = -errno;
		goto unlink_piece;
	}
	close(idfd);
	close(vfd);
	qb_log(LOG_DEBUG, "store: took %s/%s/%s from %s", r->dir, sub, piece, res);
	return 0;

unlink_piece:
	unlinkat(idfd, piece, 0);
unlink_tmp:
	if (tfd >= 0)
		close(tfd);
	unlinkat(idfd, tmp, 0);
drop_dir:
	if (made_dir)
		drop_snapdir_if_empty(r, id);
	close(idfd);
close_vol:
	close(vfd);
failed:
	qb_log(LOG_ERR, "store: cannot take %s of %s/%s for snapshot %s: %s",
	       volume, r->dir, res, id, strerror(-rc));
	return rc;
}

/* Unlink @name in @idfd; what is gone already is fine. */
static int unlink_gone_ok(int idfd, const char *name)
{
	return unlinkat(idfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

/* Byte order, not the locale's: the listing order is part of the contract. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int scan_names(int dirfd, struct dirent ***ents)
{
	int n = scandirat(dirfd, ".", ents, NULL, by_name);

	return n < 0 ? -errno : n;
}

static void free_names(struct dirent **ents, int n)
{
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

static bool dot_or_dotdot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* Remove every piece and temp file of a snapshot directory, nothing else. */
static int unlink_all(struct reflink *r, int idfd, const char *id)
{
	char rel[SNAP_REL_MAX];
	char volume[TS_VOLUME_NAME_MAX];
	struct dirent **ents;
	struct stat st;
	int n, rc = 0;

	snap_rel(rel, id);
	n = scan_names(idfd, &ents);
	if (n < 0)
		return n;
	for (int i = 0; i < n && rc == 0; i++) {
		const char *name = ents[i]->d_name;

		if (dot_or_dotdot(name))
			continue;
		if (classify(name, volume) == ENTRY_OTHER)
			log_skipped(r, rel, name, "not made by twinsnap, left in place");
		else if (fstatat(idfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			log_skipped(r, rel, name, "a directory, left in place");
		else
			rc = unlink_gone_ok(idfd, name);
	}
	free_names(ents, n);
	return rc;
}

static int reflink_remove(void *priv, const char *id, const char *volume)
{
	struct reflink *r = priv;
	char name[PIECE_NAME_MAX];
	bool made;
	int idfd, rc;

	idfd = open_snapdir(r, id, false, &made);
	if (idfd == -ENOENT)
		return 0;
	if (idfd < 0)
		return idfd;
	if (volume) {
		piece_name(name, volume, PIECE_SUFFIX);
		rc = unlink_gone_ok(idfd, name);
		piece_name(name, volume, TEMP_SUFFIX);
		if (rc == 0)
			rc = unlink_gone_ok(idfd, name);
	} else {
		rc = unlink_all(r, idfd, id);
	}
	/* Gone with its directory: syncing DIR/.twinsnap is enough.  Else sync it. */
	if (rc == 0) {
		if (unlinkat(r->tsfd, id, AT_REMOVEDIR) == 0)
			rc = fsync(r->tsfd) < 0 ? -errno : 0;
		else if (errno == ENOTEMPTY || errno == EEXIST)
			rc = fsync(idfd) < 0 ? -errno : 0;
		else if (errno != ENOENT)
			rc = -errno;
	}
	close(idfd);
	if (rc < 0)
		qb_log(LOG_ERR, "store: cannot remove %s of snapshot %s in %s: %s",
		       volume ? volume : "the pieces", id, r->dir, strerror(-rc));
	return rc;
}

/* One snapshot directory of ts_store_list. */
static int list_snapshot(struct reflink *r, const char *id, ts_store_list_cb cb, void *ctx)
{
	char rel[SNAP_REL_MAX];
	char volume[TS_VOLUME_NAME_MAX];
	struct dirent **ents;
	struct stat st;
	bool made, cleaned = false;
	size_t kept = 0;
	int idfd, n, rc = 0;

	idfd = open_snapdir(r, id, false, &made);
	if (idfd == -ENOENT)            /* removed by the callback meanwhile */
		return 0;
	if (idfd == -ENOTDIR || idfd == -ELOOP) {
		log_skipped(r, PIECES_DIR, id, "not a directory");
		return 0;
	}
	if (idfd < 0)
		return idfd;
	snap_rel(rel, id);
	n = scan_names(idfd, &ents);
	if (n < 0) {
		rc = n;
		goto close_dir;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		const char *name = ents[i]->d_name;
		char *path;

		if (dot_or_dotdot(name))
			continue;
		switch (classify(name, volume)) {
		case ENTRY_TEMP:
			qb_log(LOG_WARNING, "store: removing %s/%s/%s left by an interrupted take",
			       r->dir, rel, name);
			rc = unlink_gone_ok(idfd, name);
			cleaned = true;
			break;
		case ENTRY_PIECE:
			/* Gone already (the callback removed it) or not a plain file. */
			if (fstatat(idfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno != ENOENT)
					rc = -errno;
				break;
			}
			if (!S_ISREG(st.st_mode)) {
				log_skipped(r, rel, name, "not a regular file");
				kept++;
				break;
			}
			kept++;
			path = ts_xasprintf("%s/%s/%s", r->dir, rel, name);
			rc = cb(ctx, id, volume, path);
			free(path);
			break;
		case ENTRY_OTHER:
			log_skipped(r, rel, name, "not a piece name");
			kept++;
			break;
		}
	}
	free_names(ents, n);
	if (cleaned && rc == 0 && fsync(idfd) < 0)
		rc = -errno;
	if (rc == 0 && kept == 0) {
		qb_log(LOG_INFO, "store: removing empty snapshot directory %s/%s", r->dir, rel);
		rc = drop_snapdir_if_empty(r, id);
	}
close_dir:
	close(idfd);
	return rc;
}

static int reflink_list(void *priv, ts_store_list_cb cb, void *ctx)
{
	struct reflink *r = priv;
	struct dirent **ents;
	char safe[80];
	int n, rc = 0;

	n = scan_names(r->tsfd, &ents);
	if (n < 0)
		return n;
	for (int i = 0; i < n && rc == 0; i++) {
		const char *name = ents[i]->d_name;

		if (dot_or_dotdot(name))
			continue;
		if (strncmp(name, PROBE_PREFIX, strlen(PROBE_PREFIX)) == 0) {
			ts_sanitize_for_log(name, safe, sizeof(safe));
			qb_log(LOG_WARNING, "store: removing %s/" PIECES_DIR "/%s left by an "
			       "interrupted open", r->dir, safe);
			rc = unlink_gone_ok(r->tsfd, name);
		} else if (!ts_snapshot_id_valid(name)) {
			log_skipped(r, PIECES_DIR, name, "not a snapshot id");
		} else {
			rc = list_snapshot(r, name, cb, ctx);
		}
	}
	free_names(ents, n);
	return rc;
}

static int reflink_space(void *priv, uint64_t *free_bytes, uint64_t *total_bytes)
{
	struct reflink *r = priv;
	struct statvfs sv;

	if (fstatvfs(r->dirfd, &sv) < 0)
		return -errno;
	*free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	*total_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	return 0;
}

/* Worst case: each piece ends up holding all of its volume's old blocks (store.h). */
static uint64_t reflink_estimate(void *priv, const uint64_t *volume_bytes, size_t n)
{
	uint64_t sum = 0;

	(void)priv;
	for (size_t i = 0; i < n; i++) {
		if (volume_bytes[i] > UINT64_MAX - sum)
			return UINT64_MAX;
		sum += volume_bytes[i];
	}
	return sum;
}

const struct ts_store_ops ts_store_reflink_ops = {
	.name = "reflink",
	.open = reflink_open,
	.close = reflink_close,
	.volume_path = reflink_volume_path,
	.volume_size = reflink_volume_size,
	.take = reflink_take,
	.remove = reflink_remove,
	.list = reflink_list,
	.space = reflink_space,
	.estimate = reflink_estimate,
};
