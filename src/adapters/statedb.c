/* SPDX-License-Identifier: GPL-2.0-or-later */
/* statedb — SQLite-backed durable state (see statedb.h). */
#include "config.h"
#include "adapters/statedb.h"

#include <errno.h>
#include <qb/qblog.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define SCHEMA_VERSION 1

struct ts_statedb {
	sqlite3 *db;
	int lock_fd;            /* flock'd: one agent per state directory */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS settings ("
	"  key TEXT PRIMARY KEY NOT NULL,"
	"  value TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  origin INTEGER NOT NULL);";

static int exec_sql(sqlite3 *db, const char *sql, char **errmsg)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	if (errmsg)
		*errmsg = ts_xasprintf("%s", err ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	return -EIO;
}

int ts_statedb_open(const char *dir, struct ts_statedb **out, char **errmsg)
{
	struct ts_statedb *sdb;
	char *path = NULL;
	char *err = NULL;
	int version = 0;
	sqlite3_stmt *st = NULL;

	*out = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*errmsg = ts_xasprintf("cannot create state directory %s: %s", dir,
				       strerror(errno));
		return -errno;
	}
	sdb = ts_xcalloc(1, sizeof(*sdb));
	path = ts_xasprintf("%s/twinsnapd.lock", dir);
	sdb->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sdb->lock_fd < 0 || flock(sdb->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		*errmsg = ts_xasprintf(errno == EWOULDBLOCK
				       ? "another twinsnapd uses the state directory %s"
				       : "cannot lock the state directory %s: %s", dir,
				       strerror(errno));
		goto fail;
	}
	free(path);
	path = ts_xasprintf("%s/twinsnap.db", dir);
	if (sqlite3_open_v2(path, &sdb->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		*errmsg = ts_xasprintf("cannot open %s: %s", path, sqlite3_errmsg(sdb->db));
		goto fail;
	}
	sqlite3_busy_timeout(sdb->db, 2000);
	if (exec_sql(sdb->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", &err) < 0 ||
	    exec_sql(sdb->db, schema, &err) < 0) {
		*errmsg = ts_xasprintf("%s: %s", path, err);
		goto fail;
	}
	if (sqlite3_prepare_v2(sdb->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > SCHEMA_VERSION) {
		*errmsg = ts_xasprintf("%s: schema version %d is newer than this twinsnapd (%d)",
				       path, version, SCHEMA_VERSION);
		goto fail;
	}
	if (version < SCHEMA_VERSION)
		exec_sql(sdb->db, "PRAGMA user_version = 1", NULL);
	free(err);
	free(path);
	*out = sdb;
	return 0;
fail:
	free(err);
	free(path);
	sqlite3_close(sdb->db);
	if (sdb->lock_fd >= 0)
		close(sdb->lock_fd);
	free(sdb);
	return -EIO;
}

void ts_statedb_close(struct ts_statedb *db)
{
	if (!db)
		return;
	sqlite3_close(db->db);
	close(db->lock_fd);
	free(db);
}

int ts_statedb_load_settings(struct ts_statedb *db, struct ts_settings *s)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->db, "SELECT key, value, version, origin FROM settings",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ts_setting v = { 0 };
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const char *value = (const char *)sqlite3_column_text(st, 1);

		if (!key || !value)
			continue;
		snprintf(v.key, sizeof(v.key), "%s", key);
		snprintf(v.value, sizeof(v.value), "%s", value);
		v.version = (uint64_t)sqlite3_column_int64(st, 2);
		v.origin = (uint32_t)sqlite3_column_int64(st, 3);
		if (ts_settings_merge(s, &v) < 0)
			qb_log(LOG_WARNING, "statedb: ignoring invalid stored setting '%s'", v.key);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int ts_statedb_save_setting(struct ts_statedb *db, const struct ts_setting *v)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO;

	if (exec_sql(db->db, "BEGIN IMMEDIATE", NULL) < 0)
		return -EIO;
	if (sqlite3_prepare_v2(db->db,
			       "INSERT OR REPLACE INTO settings (key, value, version, origin) "
			       "VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_bind_text(st, 1, v->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)v->version);
	sqlite3_bind_int64(st, 4, v->origin);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	if (exec_sql(db->db, "COMMIT", NULL) < 0)
		goto rollback_nost;
	return 0;
rollback:
	sqlite3_finalize(st);
rollback_nost:
	qb_log(LOG_ERR, "statedb: cannot store setting %s: %s", v->key, sqlite3_errmsg(db->db));
	exec_sql(db->db, "ROLLBACK", NULL);
	return rc;
}
