/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * catalog — the PM's snapshot catalog in SQLite (see catalog.h).  A snapshot
 * row lives in `snapshots`, its volumes inline as "name=bytes name=bytes"
 * (volume names cannot hold '=' or ' '), so that listing 100,000 rows reads
 * one small row each and joins nothing; the domain XML sits apart in
 * `snapshot_xml` and only ts_catalog_get() reads it.  Every statement is
 * prepared once at open from the table below; data only reaches SQLite as
 * bound parameters.
 */
#include "config.h"
#include "adapters/catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <qb/qblog.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "util.h"

#define SCHEMA_VERSION 1
#define XML_MAX (16u << 20)     /* bytes incl. NUL; libvirt XML is far smaller */
#define DRBD_MINOR_LIMIT (1 << 20)

/* Phases and consistencies are stored as numbers: renumbering needs a new schema. */
_Static_assert(TS_PH_CREATED == 0 && TS_PH_FROZEN == 1 && TS_PH_TAKEN == 2 &&
	       TS_PH_COMMITTING == 3 && TS_PH_NORMAL == 4 && TS_PH_PENDING == 5 &&
	       TS_PH__COUNT == 6, "stored phase numbers changed");
_Static_assert(TS_CONS_CRASH == 0 && TS_CONS_APPLICATION == 1 && TS_CONS_AUTO == 2,
	       "stored consistency numbers changed");

static const char schema[] =
	"CREATE TABLE snapshots ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  vm TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  description TEXT NOT NULL,"
	"  consistency_requested INTEGER NOT NULL,"
	"  consistency_achieved INTEGER NOT NULL,"
	"  created_at_ms INTEGER NOT NULL,"
	"  origin INTEGER NOT NULL,"
	"  request INTEGER NOT NULL,"          /* uint64 stored as its int64 bits */
	"  primary_node INTEGER NOT NULL,"
	"  secondary_node INTEGER NOT NULL,"
	"  phase INTEGER NOT NULL,"
	"  taken_primary INTEGER NOT NULL,"
	"  taken_secondary INTEGER NOT NULL,"
	"  sent_taken INTEGER NOT NULL,"
	"  current_config INTEGER NOT NULL,"
	"  volumes TEXT NOT NULL);"            /* "boot=1073741824 data=4096" */
	/* phase in the indexes: state filters and counts read no table row */
	"CREATE INDEX snapshots_by_time ON snapshots (created_at_ms, id, phase);"
	"CREATE INDEX snapshots_by_vm ON snapshots (vm, created_at_ms, id, phase);"
	"CREATE INDEX snapshots_by_vm_phase ON snapshots (vm, phase);"
	"CREATE TABLE snapshot_xml ("
	"  snapshot TEXT PRIMARY KEY NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,"
	"  xml TEXT NOT NULL);"
	"CREATE TABLE pieces ("
	"  snapshot TEXT NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,"
	"  volume TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  PRIMARY KEY (snapshot, volume)) WITHOUT ROWID;"
	"CREATE TABLE tombstones ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  deleted_at_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE events ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"     /* never reuses a seq */
	"  time_ms INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  snapshot TEXT NOT NULL,"
	"  vm TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  message TEXT NOT NULL);"
	/* No foreign key to snapshots: an intent outlives its row until I/O is resumed. */
	"CREATE TABLE intents ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  vm TEXT NOT NULL,"
	"  fsfrozen INTEGER NOT NULL,"
	"  minors TEXT NOT NULL) WITHOUT ROWID;"      /* "0 7 12" */
	"PRAGMA user_version = 1;";

/* Column order read by read_row(). */
#define SNAP_COLS \
	"s.id, s.vm, s.name, s.description, s.consistency_requested, " \
	"s.consistency_achieved, s.created_at_ms, s.origin, s.request, s.primary_node, " \
	"s.secondary_node, s.phase, s.taken_primary, s.taken_secondary, s.sent_taken, " \
	"s.current_config, s.volumes"
#define SNAP_NCOLS 17
/* ?1 state (-1: any), ?2 TS_PH_NORMAL */
#define STATE_FILTER "(?1 < 0 OR (s.phase = ?2) = ?1)"

enum stmt_id {
	ST_SNAP_UPSERT, ST_SNAP_EXISTS, ST_SNAP_GET, ST_SNAP_DELETE,
	ST_XML_UPSERT, ST_XML_DELETE,
	ST_LIST_ALL, ST_LIST_VM, ST_LIST_KEYS, ST_COUNT_ALL, ST_COUNT_VM, ST_IN_FLIGHT,
	ST_TOMB_UPSERT, ST_TOMB_GET, ST_TOMB_COUNT, ST_TOMB_LIST, ST_TOMB_PRUNE,
	ST_PIECE_UPSERT, ST_PIECE_DELETE, ST_PIECE_DELETE_ALL,
	ST_PIECE_COUNT_ALL, ST_PIECE_COUNT_ID, ST_PIECE_LIST_ALL, ST_PIECE_LIST_ID,
	ST_EVENT_INSERT, ST_EVENT_COUNT, ST_EVENT_LIST,
	ST_INTENT_UPSERT, ST_INTENT_COUNT, ST_INTENT_LIST, ST_INTENT_DELETE,
	ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_SNAP_UPSERT] =
		"INSERT INTO snapshots (id, vm, name, description, consistency_requested,"
		" consistency_achieved, created_at_ms, origin, request, primary_node,"
		" secondary_node, phase, taken_primary, taken_secondary, sent_taken,"
		" current_config, volumes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		" ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
		/* Not INSERT OR REPLACE: its delete would cascade to the pieces. */
		"ON CONFLICT (id) DO UPDATE SET vm = excluded.vm, name = excluded.name,"
		" description = excluded.description,"
		" consistency_requested = excluded.consistency_requested,"
		" consistency_achieved = excluded.consistency_achieved,"
		" created_at_ms = excluded.created_at_ms, origin = excluded.origin,"
		" request = excluded.request, primary_node = excluded.primary_node,"
		" secondary_node = excluded.secondary_node, phase = excluded.phase,"
		" taken_primary = excluded.taken_primary,"
		" taken_secondary = excluded.taken_secondary,"
		" sent_taken = excluded.sent_taken, current_config = excluded.current_config,"
		" volumes = excluded.volumes",
	[ST_SNAP_EXISTS] = "SELECT 1 FROM snapshots WHERE id = ?1",
	[ST_SNAP_GET] =
		"SELECT " SNAP_COLS ", x.xml FROM snapshots s"
		" LEFT JOIN snapshot_xml x ON x.snapshot = s.id WHERE s.id = ?1",
	[ST_SNAP_DELETE] = "DELETE FROM snapshots WHERE id = ?1",
	[ST_XML_UPSERT] =
		"INSERT INTO snapshot_xml (snapshot, xml) VALUES (?1, ?2)"
		" ON CONFLICT (snapshot) DO UPDATE SET xml = excluded.xml",
	[ST_XML_DELETE] = "DELETE FROM snapshot_xml WHERE snapshot = ?1",
	/* pages: after the cursor (?4 created_at_ms, ?5 id), at most ?6 rows */
	[ST_LIST_ALL] =
		"SELECT " SNAP_COLS " FROM snapshots s"
		" WHERE " STATE_FILTER " AND (s.created_at_ms, s.id) > (?4, ?5)"
		" ORDER BY s.created_at_ms, s.id LIMIT ?6",
	[ST_LIST_VM] =
		"SELECT " SNAP_COLS " FROM snapshots s"
		" WHERE s.vm = ?3 AND " STATE_FILTER " AND (s.created_at_ms, s.id) > (?4, ?5)"
		" ORDER BY s.created_at_ms, s.id LIMIT ?6",
	/* columns of the index snapshots_by_time only: no table row is read */
	[ST_LIST_KEYS] =
		"SELECT s.created_at_ms, s.id, s.phase FROM snapshots s"
		" WHERE " STATE_FILTER " AND (s.created_at_ms, s.id) > (?4, ?5)"
		" ORDER BY s.created_at_ms, s.id LIMIT ?6",
	[ST_COUNT_ALL] = "SELECT count(*) FROM snapshots s WHERE " STATE_FILTER,
	[ST_COUNT_VM] = "SELECT count(*) FROM snapshots s WHERE s.vm = ?3 AND " STATE_FILTER,
	[ST_IN_FLIGHT] =
		/* in flight: the phases before NORMAL (snapshot.h keeps them first) */
		"SELECT count(*) FROM snapshots WHERE vm = ?1 AND phase < ?2",
	[ST_TOMB_UPSERT] =
		"INSERT INTO tombstones (id, deleted_at_ms) VALUES (?1, ?2) ON CONFLICT (id)"
		" DO UPDATE SET deleted_at_ms = max(deleted_at_ms, excluded.deleted_at_ms)",
	[ST_TOMB_GET] = "SELECT 1 FROM tombstones WHERE id = ?1",
	[ST_TOMB_COUNT] = "SELECT count(*) FROM tombstones",
	[ST_TOMB_LIST] = "SELECT id FROM tombstones ORDER BY id",
	[ST_TOMB_PRUNE] = "DELETE FROM tombstones WHERE deleted_at_ms < ?1",
	[ST_PIECE_UPSERT] =
		"INSERT INTO pieces (snapshot, volume, path) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (snapshot, volume) DO UPDATE SET path = excluded.path",
	[ST_PIECE_DELETE] = "DELETE FROM pieces WHERE snapshot = ?1 AND volume = ?2",
	[ST_PIECE_DELETE_ALL] = "DELETE FROM pieces WHERE snapshot = ?1",
	[ST_PIECE_COUNT_ALL] = "SELECT count(*) FROM pieces",
	[ST_PIECE_COUNT_ID] = "SELECT count(*) FROM pieces WHERE snapshot = ?1",
	[ST_PIECE_LIST_ALL] = "SELECT snapshot, volume, path FROM pieces ORDER BY snapshot, volume",
	[ST_PIECE_LIST_ID] =
		"SELECT snapshot, volume, path FROM pieces WHERE snapshot = ?1 ORDER BY volume",
	[ST_EVENT_INSERT] =
		"INSERT INTO events (time_ms, kind, snapshot, vm, reason, message)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_EVENT_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM events WHERE seq > ?1 LIMIT ?2)",
	[ST_EVENT_LIST] =
		"SELECT seq, time_ms, kind, snapshot, vm, reason, message FROM events"
		" WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[ST_INTENT_UPSERT] =
		"INSERT INTO intents (id, vm, fsfrozen, minors) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (id) DO UPDATE SET vm = excluded.vm, fsfrozen = excluded.fsfrozen,"
		" minors = excluded.minors",
	[ST_INTENT_COUNT] = "SELECT count(*) FROM intents",
	[ST_INTENT_LIST] = "SELECT id, vm, fsfrozen, minors FROM intents ORDER BY id",
	[ST_INTENT_DELETE] = "DELETE FROM intents WHERE id = ?1",
};

struct ts_catalog {
	sqlite3 *db;
	char *path;                     /* for messages */
	int lock_fd;                    /* flock'd: one writer per catalog */
	bool in_txn;                    /* between ts_catalog_begin() and commit/abort */
	bool txn_lost;                  /* SQLite rolled the explicit transaction back */
	sqlite3_stmt *st[ST__COUNT];
};

/* ---- SQLite helpers ------------------------------------------------------- */

static int exec_sql(struct ts_catalog *c, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	qb_log(LOG_ERR, "catalog: %s: %s: %s", c->path, sql, err ? err : sqlite3_errmsg(c->db));
	sqlite3_free(err);
	return -EIO;
}

/* A prepared statement, reset and without bindings. */
static sqlite3_stmt *stmt(struct ts_catalog *c, enum stmt_id id)
{
	sqlite3_stmt *st = c->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static int db_error(struct ts_catalog *c, sqlite3_stmt *st)
{
	qb_log(LOG_ERR, "catalog: %s: %s", c->path, sqlite3_errmsg(c->db));
	sqlite3_reset(st);
	return -EIO;
}

/* Run a statement that returns no row; reset it so that it holds no lock. */
static int step_done(struct ts_catalog *c, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(c, st);
	sqlite3_reset(st);
	return 0;
}

/* Run a statement that returns one integer (count, flag); *v is 0 without a row. */
static int step_int(struct ts_catalog *c, sqlite3_stmt *st, int64_t *v)
{
	int rc = sqlite3_step(st);

	*v = 0;
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		return db_error(c, st);
	sqlite3_reset(st);
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/*
 * Copy a stored text column into a fixed buffer; a NULL, an embedded NUL or
 * text that does not fit means the file was not written by us: -EIO.
 */
static int col_text(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t len = (size_t)sqlite3_column_bytes(st, i);

	if (!t || len >= size || memchr(t, '\0', len))
		return -EIO;
	memcpy(buf, t, len);
	buf[len] = '\0';
	return 0;
}

/*
 * Mutating calls: each runs in its own transaction, or inside the explicit
 * one under a savepoint so that a failure undoes only that call.
 */
static int op_begin(struct ts_catalog *c)
{
	if (c->txn_lost)
		return -EIO;
	return exec_sql(c, c->in_txn ? "SAVEPOINT op" : "BEGIN IMMEDIATE");
}

static int op_end(struct ts_catalog *c, int rc)
{
	if (rc == 0 && ts_fault("catalog/commit"))
		rc = -EIO;
	if (rc == 0 && exec_sql(c, c->in_txn ? "RELEASE op" : "COMMIT") == 0)
		return 0;
	if (rc == 0)
		rc = -EIO;
	if (sqlite3_get_autocommit(c->db)) {
		/* SQLite already rolled back (I/O error, disk full): all of it. */
		if (c->in_txn)
			c->txn_lost = true;
		return rc;
	}
	if (c->in_txn) {
		exec_sql(c, "ROLLBACK TO op");
		exec_sql(c, "RELEASE op");
	} else {
		exec_sql(c, "ROLLBACK");
	}
	return rc;
}

typedef int (*row_reader)(sqlite3_stmt *st, void *elem);

/*
 * Run @count_st (one integer), then read every row of @list_st into a new
 * array of that many @size-byte elements.  The caller binds both; they run
 * in one read transaction so that the count holds.  Rows that do not fit
 * (the file was edited by hand) fail the whole read with -EIO.
 */
static int fetch_all(struct ts_catalog *c, sqlite3_stmt *count_st, sqlite3_stmt *list_st,
		     size_t size, row_reader read_one, void **out, size_t *n)
{
	unsigned char *r = NULL;
	size_t used = 0;
	int64_t count;
	int rc;

	*out = NULL;
	*n = 0;
	if (!c->in_txn && exec_sql(c, "BEGIN") < 0)
		return -EIO;
	if ((rc = step_int(c, count_st, &count)) < 0 || count == 0)
		goto out;
	r = ts_xcalloc((size_t)count, size);
	while ((rc = sqlite3_step(list_st)) == SQLITE_ROW) {
		if (used == (size_t)count || read_one(list_st, r + used * size) < 0) {
			qb_log(LOG_ERR, "catalog: %s: a stored row does not fit", c->path);
			rc = -EIO;
			goto out;
		}
		used++;
	}
	if (rc != SQLITE_DONE) {
		rc = db_error(c, list_st);
		goto out;
	}
	*out = r;
	*n = used;
	r = NULL;
	rc = 0;
out:
	sqlite3_reset(list_st);
	free(r);        /* only fixed-size rows: no XML to release */
	if (!c->in_txn && !sqlite3_get_autocommit(c->db))
		exec_sql(c, "COMMIT");
	return rc;
}

/* ---- validation ----------------------------------------------------------- */

/* Non-empty valid text (the empty string has no meaning in these columns). */
static bool text_valid(const char *s, size_t max, const char *allowed)
{
	return s && s[0] && ts_utf8_text_valid(s, max, allowed);
}

/* Is @s NUL-terminated within its @size-byte array? */
static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* 1..size-1 of [a-z0-9_] (event kinds and reasons). */
static bool word_valid(const char *s, size_t size)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i + 1 >= size ||
		    !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	}
	return i > 0;
}

static bool row_valid(const struct ts_snapshot *s)
{
	if (!terminated(s->id, sizeof(s->id)) || !ts_snapshot_id_valid(s->id) ||
	    !terminated(s->vm, sizeof(s->vm)) || !ts_vm_name_valid(s->vm) ||
	    !terminated(s->name, sizeof(s->name)) || !ts_snapshot_name_valid(s->name) ||
	    !terminated(s->description, sizeof(s->description)) ||
	    !ts_snapshot_description_valid(s->description))
		return false;
	if ((unsigned)s->consistency_requested > TS_CONS_AUTO ||
	    (unsigned)s->consistency_achieved > TS_CONS_APPLICATION ||
	    (unsigned)s->phase >= TS_PH__COUNT || s->n_volumes > TS_SNAP_MAX_VOLUMES)
		return false;
	for (uint32_t i = 0; i < s->n_volumes; i++) {
		if (!terminated(s->volumes[i], sizeof(s->volumes[i])) ||
		    !ts_volume_name_valid(s->volumes[i]))
			return false;
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(s->volumes[i], s->volumes[j]) == 0)
				return false;
	}
	return !s->domain_xml || text_valid(s->domain_xml, XML_MAX, "\t\n\r");
}

static bool event_valid(const struct ts_event *e)
{
	return terminated(e->kind, sizeof(e->kind)) && word_valid(e->kind, sizeof(e->kind)) &&
	       terminated(e->snapshot, sizeof(e->snapshot)) &&
	       (!e->snapshot[0] || ts_snapshot_id_valid(e->snapshot)) &&
	       terminated(e->vm, sizeof(e->vm)) && (!e->vm[0] || ts_vm_name_valid(e->vm)) &&
	       terminated(e->reason, sizeof(e->reason)) &&
	       (!e->reason[0] || word_valid(e->reason, sizeof(e->reason))) &&
	       terminated(e->message, sizeof(e->message)) &&
	       (!e->message[0] || text_valid(e->message, sizeof(e->message), "\n\t"));
}

/* ---- the inline lists: volumes and minors --------------------------------- */

/* Longest "name=bytes name=bytes ..." text, NUL included. */
#define VOLUMES_TEXT_MAX (TS_SNAP_MAX_VOLUMES * (TS_VOLUME_NAME_MAX + 1 + 20))
#define MINORS_TEXT_MAX (TS_SNAP_MAX_VOLUMES * 8)

/* Decimal digits at *p up to @max, then *p is past them; -EIO if none or too big. */
static int parse_dec(const char **p, uint64_t max, uint64_t *v)
{
	const char *q = *p;

	*v = 0;
	for (; *q >= '0' && *q <= '9'; q++) {
		if (*v > (max - (uint64_t)(*q - '0')) / 10)
			return -EIO;
		*v = *v * 10 + (uint64_t)(*q - '0');
	}
	if (q == *p)
		return -EIO;
	*p = q;
	return 0;
}

/* After an item: end of text, or one space and another item. */
static int next_item(const char **p)
{
	if (**p == '\0')
		return 0;
	if (**p != ' ' || (*p)[1] == '\0')
		return -EIO;
	(*p)++;
	return 0;
}

static void volumes_encode(const struct ts_snapshot *s, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < s->n_volumes; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s=%" PRIu64,
					 i ? " " : "", s->volumes[i], s->volume_bytes[i]);
}

static int volumes_decode(const char *p, struct ts_snapshot *s)
{
	s->n_volumes = 0;
	while (*p) {
		const char *eq = strchr(p, '=');
		char *name;

		if (s->n_volumes == TS_SNAP_MAX_VOLUMES || !eq ||
		    (size_t)(eq - p) >= TS_VOLUME_NAME_MAX)
			return -EIO;
		name = s->volumes[s->n_volumes];
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		p = eq + 1;
		if (!ts_volume_name_valid(name) ||
		    parse_dec(&p, UINT64_MAX, &s->volume_bytes[s->n_volumes]) < 0 ||
		    next_item(&p) < 0)
			return -EIO;
		s->n_volumes++;
	}
	return 0;
}

/* ---- open / close / transactions ------------------------------------------ */

static int prepare_all(struct ts_catalog *c, char **errmsg)
{
	for (int i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &c->st[i], NULL) != SQLITE_OK) {
			*errmsg = ts_xasprintf("%s: cannot prepare statement %d: %s", c->path, i,
					       sqlite3_errmsg(c->db));
			return -EIO;
		}
	}
	return 0;
}

/* Create the schema of a new database, or check that of an existing one. */
static int check_schema(struct ts_catalog *c, char **errmsg)
{
	sqlite3_stmt *st = NULL;
	char *err = NULL;
	int version = -1;

	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK)
		goto sql_error;
	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0)
		goto sql_error;
	if (version > SCHEMA_VERSION) {
		*errmsg = ts_xasprintf("%s: catalog schema version %d is newer than this "
				       "twinsnapd understands (%d); refusing to use it",
				       c->path, version, SCHEMA_VERSION);
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	/* Version 0 is a new file; a future version 2 migrates from 1 here. */
	if (version == 0 && sqlite3_exec(c->db, schema, NULL, NULL, &err) != SQLITE_OK)
		goto sql_error;
	/* Added within version 1 (the precheck's count of a VM's snapshots in
	 * flight read every row of the VM without it): same data, no migration. */
	if (sqlite3_exec(c->db, "CREATE INDEX IF NOT EXISTS snapshots_by_vm_phase"
			 " ON snapshots (vm, phase)", NULL, NULL, &err) != SQLITE_OK)
		goto sql_error;
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, &err) != SQLITE_OK)
		goto sql_error;
	return 0;
sql_error:
	*errmsg = ts_xasprintf("%s: %s", c->path, err ? err : sqlite3_errmsg(c->db));
	sqlite3_free(err);
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

static int open_db(struct ts_catalog *c, char **errmsg)
{
	char *err = NULL;

	if (sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*errmsg = ts_xasprintf("cannot open %s: %s", c->path,
				       c->db ? sqlite3_errmsg(c->db) : "out of memory");
		return -EIO;
	}
	sqlite3_busy_timeout(c->db, 2000);
	/* Outside any transaction: these pragmas are no-ops inside one. */
	if (sqlite3_exec(c->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
			 NULL, NULL, &err) != SQLITE_OK) {
		*errmsg = ts_xasprintf("%s: %s", c->path, err ? err : sqlite3_errmsg(c->db));
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

/* After the schema check, so that a refused file is left as it was. */
static int use_wal(struct ts_catalog *c, char **errmsg)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;

	if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		wal = sqlite3_column_text(st, 0) &&
		      strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (wal)
		return 0;
	*errmsg = ts_xasprintf("%s: cannot switch to WAL journaling: %s", c->path,
			       sqlite3_errmsg(c->db));
	return -EIO;
}

int ts_catalog_open(const char *dir, struct ts_catalog **out, char **errmsg)
{
	struct ts_catalog *c;
	char *lock_path;
	int rc;

	*out = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		*errmsg = ts_xasprintf("cannot create state directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	c = ts_xcalloc(1, sizeof(*c));
	lock_path = ts_xasprintf("%s/catalog.lock", dir);
	c->path = ts_xasprintf("%s/catalog.db", dir);
	c->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		rc = -errno;
		*errmsg = ts_xasprintf("cannot open %s: %s", lock_path, strerror(-rc));
		goto fail_lock;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (rc == -EWOULDBLOCK) {
			rc = -EBUSY;
			*errmsg = ts_xasprintf("%s is in use by another process or handle",
					       c->path);
		} else {
			*errmsg = ts_xasprintf("cannot lock %s: %s", lock_path, strerror(-rc));
		}
		goto fail_lock;
	}
	if ((rc = open_db(c, errmsg)) < 0 || (rc = check_schema(c, errmsg)) < 0 ||
	    (rc = use_wal(c, errmsg)) < 0 || (rc = prepare_all(c, errmsg)) < 0)
		goto fail_db;
	free(lock_path);
	*out = c;
	return 0;
fail_db:
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
fail_lock:
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(lock_path);
	free(c->path);
	free(c);
	return rc;
}

void ts_catalog_close(struct ts_catalog *c)
{
	if (!c)
		return;
	ts_catalog_abort(c);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	if (sqlite3_close(c->db) != SQLITE_OK)
		qb_log(LOG_ERR, "catalog: closing %s: %s", c->path, sqlite3_errmsg(c->db));
	close(c->lock_fd);
	free(c->path);
	free(c);
}

int ts_catalog_begin(struct ts_catalog *c)
{
	if (c->in_txn)
		return -EBUSY;
	if (exec_sql(c, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	c->in_txn = true;
	c->txn_lost = false;
	return 0;
}

int ts_catalog_commit(struct ts_catalog *c)
{
	int rc = 0;

	if (!c->in_txn)
		return -EINVAL;
	c->in_txn = false;
	if (c->txn_lost) {
		qb_log(LOG_ERR, "catalog: %s: transaction was rolled back by an earlier error",
		       c->path);
		rc = -EIO;
	} else if (ts_fault("catalog/commit") || exec_sql(c, "COMMIT") < 0) {
		rc = -EIO;
	}
	if (!sqlite3_get_autocommit(c->db))
		exec_sql(c, "ROLLBACK");
	c->txn_lost = false;
	return rc;
}

void ts_catalog_abort(struct ts_catalog *c)
{
	if (!c->in_txn)
		return;
	c->in_txn = false;
	c->txn_lost = false;
	if (!sqlite3_get_autocommit(c->db))
		exec_sql(c, "ROLLBACK");
}

/* ---- snapshot rows -------------------------------------------------------- */

static int put_locked(struct ts_catalog *c, const struct ts_snapshot *s)
{
	char volumes[VOLUMES_TEXT_MAX];
	sqlite3_stmt *st = stmt(c, ST_TOMB_GET);
	int64_t dead;
	int rc;

	bind_text(st, 1, s->id);
	if ((rc = step_int(c, st, &dead)) < 0)
		return rc;
	if (dead)
		return -ESTALE;
	volumes_encode(s, volumes, sizeof(volumes));
	st = stmt(c, ST_SNAP_UPSERT);
	bind_text(st, 1, s->id);
	bind_text(st, 2, s->vm);
	bind_text(st, 3, s->name);
	bind_text(st, 4, s->description);
	sqlite3_bind_int(st, 5, (int)s->consistency_requested);
	sqlite3_bind_int(st, 6, (int)s->consistency_achieved);
	sqlite3_bind_int64(st, 7, s->created_at_ms);
	sqlite3_bind_int64(st, 8, s->origin);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)s->request);
	sqlite3_bind_int64(st, 10, s->primary);
	sqlite3_bind_int64(st, 11, s->secondary);
	sqlite3_bind_int(st, 12, (int)s->phase);
	sqlite3_bind_int(st, 13, s->taken_by[0]);
	sqlite3_bind_int(st, 14, s->taken_by[1]);
	sqlite3_bind_int(st, 15, s->sent_taken);
	sqlite3_bind_int(st, 16, s->current_config);
	bind_text(st, 17, volumes);
	if ((rc = step_done(c, st)) < 0)
		return rc;
	st = stmt(c, s->domain_xml ? ST_XML_UPSERT : ST_XML_DELETE);
	bind_text(st, 1, s->id);
	if (s->domain_xml)
		bind_text(st, 2, s->domain_xml);
	return step_done(c, st);
}

int ts_catalog_put(struct ts_catalog *c, const struct ts_snapshot *s)
{
	int rc;

	if (!row_valid(s))
		return -EINVAL;
	if ((rc = op_begin(c)) < 0)
		return rc;
	return op_end(c, put_locked(c, s));
}

/* Fill a row (but its XML) from the first SNAP_NCOLS columns. */
static int read_row(sqlite3_stmt *st, void *elem)
{
	struct ts_snapshot *s = elem;
	int64_t cr = sqlite3_column_int64(st, 4), ca = sqlite3_column_int64(st, 5);
	int64_t phase = sqlite3_column_int64(st, 11);
	const char *volumes = (const char *)sqlite3_column_text(st, 16);

	if (col_text(st, 0, s->id, sizeof(s->id)) < 0 ||
	    col_text(st, 1, s->vm, sizeof(s->vm)) < 0 ||
	    col_text(st, 2, s->name, sizeof(s->name)) < 0 ||
	    col_text(st, 3, s->description, sizeof(s->description)) < 0 ||
	    cr < 0 || cr > TS_CONS_AUTO || ca < 0 || ca > TS_CONS_AUTO ||
	    phase < 0 || phase >= TS_PH__COUNT || !volumes || volumes_decode(volumes, s) < 0)
		return -EIO;
	s->consistency_requested = (enum ts_consistency)cr;
	s->consistency_achieved = (enum ts_consistency)ca;
	s->created_at_ms = sqlite3_column_int64(st, 6);
	s->origin = (uint32_t)sqlite3_column_int64(st, 7);
	s->request = (uint64_t)sqlite3_column_int64(st, 8);
	s->primary = (uint32_t)sqlite3_column_int64(st, 9);
	s->secondary = (uint32_t)sqlite3_column_int64(st, 10);
	s->phase = (enum ts_snap_phase)phase;
	s->taken_by[0] = sqlite3_column_int(st, 12) != 0;
	s->taken_by[1] = sqlite3_column_int(st, 13) != 0;
	s->sent_taken = sqlite3_column_int(st, 14) != 0;
	s->current_config = sqlite3_column_int(st, 15) != 0;
	return 0;
}

int ts_catalog_get(struct ts_catalog *c, const char *id, struct ts_snapshot *out)
{
	sqlite3_stmt *st;
	int rc;

	if (!ts_snapshot_id_valid(id))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	st = stmt(c, ST_SNAP_GET);      /* one statement: one consistent read */
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return db_error(c, st);
	if (read_row(st, out) < 0) {
		sqlite3_reset(st);
		memset(out, 0, sizeof(*out));
		qb_log(LOG_ERR, "catalog: %s: snapshot %s: stored row does not fit", c->path, id);
		return -EIO;
	}
	if (sqlite3_column_type(st, SNAP_NCOLS) != SQLITE_NULL)
		out->domain_xml = ts_xstrdup((const char *)sqlite3_column_text(st, SNAP_NCOLS));
	sqlite3_reset(st);
	return 0;
}

static void bind_filter(sqlite3_stmt *st, const char *vm, int state)
{
	sqlite3_bind_int(st, 1, state);
	sqlite3_bind_int(st, 2, TS_PH_NORMAL);
	if (vm)
		bind_text(st, 3, vm);
}

static void bind_page(sqlite3_stmt *st, const struct ts_catalog_cursor *cur, int64_t limit)
{
	sqlite3_bind_int64(st, 4, cur ? cur->created_at_ms : INT64_MIN);
	bind_text(st, 5, cur ? cur->id : "");
	sqlite3_bind_int64(st, 6, limit);
}

int ts_catalog_list(struct ts_catalog *c, const char *vm, int state,
		    struct ts_snapshot **rows, size_t *n)
{
	sqlite3_stmt *count_st, *list_st;
	void *r;
	int rc;

	*rows = NULL;
	*n = 0;
	if ((vm && !ts_vm_name_valid(vm)) ||
	    (state != -1 && state != TS_SNAP_BROKEN && state != TS_SNAP_NORMAL))
		return -EINVAL;
	count_st = stmt(c, vm ? ST_COUNT_VM : ST_COUNT_ALL);
	list_st = stmt(c, vm ? ST_LIST_VM : ST_LIST_ALL);
	bind_filter(count_st, vm, state);
	bind_filter(list_st, vm, state);
	bind_page(list_st, NULL, -1);
	rc = fetch_all(c, count_st, list_st, sizeof(**rows), read_row, &r, n);
	*rows = r;
	return rc;
}

uint64_t ts_catalog_generation(struct ts_catalog *c)
{
	/* rows changed by this connection, rolled back or not: only ever grows */
	return (uint64_t)sqlite3_total_changes64(c->db);
}

int ts_catalog_list_page(struct ts_catalog *c, const char *vm, int state,
			 struct ts_catalog_cursor *cur, size_t limit, struct ts_snapshot **rows,
			 size_t *n, bool *more)
{
	struct ts_snapshot *r = NULL;
	sqlite3_stmt *st;
	size_t used = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	*more = false;
	if ((vm && !ts_vm_name_valid(vm)) || limit == 0 || limit > TS_CATALOG_PAGE_MAX ||
	    (state != -1 && state != TS_SNAP_BROKEN && state != TS_SNAP_NORMAL))
		return -EINVAL;
	st = stmt(c, vm ? ST_LIST_VM : ST_LIST_ALL);
	bind_filter(st, vm, state);
	bind_page(st, cur, (int64_t)limit + 1);     /* one more: is there a next page? */
	/*
	 * Not zeroed (a row is 2.6 KB, a page of `snapshot list` 5 MB): read_row()
	 * sets every field but these two, and the strings and volumes it sets
	 * are NUL-terminated and counted; what lies past them is never read.
	 */
	r = ts_xmalloc(limit * sizeof(*r));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (used == limit) {
			*more = true;
			break;
		}
		r[used].domain_xml = NULL;
		r[used].abort_sent = false;
		if (read_row(st, &r[used]) < 0) {
			qb_log(LOG_ERR, "catalog: %s: a stored row does not fit", c->path);
			sqlite3_reset(st);
			free(r);
			return -EIO;
		}
		used++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(r);
		return db_error(c, st);
	}
	sqlite3_reset(st);
	if (used) {
		cur->created_at_ms = r[used - 1].created_at_ms;
		memcpy(cur->id, r[used - 1].id, sizeof(cur->id));
		*rows = r;
	} else {
		free(r);
	}
	*n = used;
	return 0;
}

int ts_catalog_keys_page(struct ts_catalog *c, int state, struct ts_catalog_cursor *cur,
			 size_t limit, struct ts_catalog_key *keys, size_t *n, bool *more)
{
	sqlite3_stmt *st;
	size_t used = 0;
	int rc;

	*n = 0;
	*more = false;
	if (limit == 0 || limit > TS_CATALOG_PAGE_MAX ||
	    (state != -1 && state != TS_SNAP_BROKEN && state != TS_SNAP_NORMAL))
		return -EINVAL;
	st = stmt(c, ST_LIST_KEYS);
	bind_filter(st, NULL, state);
	bind_page(st, cur, (int64_t)limit + 1);     /* one more: is there a next page? */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ts_catalog_key *k = &keys[used];
		int64_t phase = sqlite3_column_int64(st, 2);

		if (used == limit) {
			*more = true;
			break;
		}
		if (col_text(st, 1, k->id, sizeof(k->id)) < 0 || phase < 0 ||
		    phase >= TS_PH__COUNT) {
			qb_log(LOG_ERR, "catalog: %s: a stored row does not fit", c->path);
			sqlite3_reset(st);
			return -EIO;
		}
		k->created_at_ms = sqlite3_column_int64(st, 0);
		k->phase = (enum ts_snap_phase)phase;
		used++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(c, st);
	sqlite3_reset(st);
	if (used) {
		cur->created_at_ms = keys[used - 1].created_at_ms;
		memcpy(cur->id, keys[used - 1].id, sizeof(cur->id));
	}
	*n = used;
	return 0;
}

void ts_catalog_rows_free(struct ts_snapshot *rows, size_t n)
{
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++)
		ts_snapshot_release(&rows[i]);
	free(rows);
}

int ts_catalog_count_in_flight(struct ts_catalog *c, const char *vm, size_t *n)
{
	sqlite3_stmt *st;
	int64_t count;
	int rc;

	*n = 0;
	if (!ts_vm_name_valid(vm))
		return -EINVAL;
	st = stmt(c, ST_IN_FLIGHT);
	bind_text(st, 1, vm);
	sqlite3_bind_int(st, 2, TS_PH_NORMAL);
	if ((rc = step_int(c, st, &count)) < 0)
		return rc;
	*n = (size_t)count;
	return 0;
}

/* ---- deletion and tombstones ---------------------------------------------- */

static int remove_locked(struct ts_catalog *c, const char *id, int64_t now_ms)
{
	static const enum stmt_id deletes[] = {
		ST_PIECE_DELETE_ALL, ST_XML_DELETE, ST_SNAP_DELETE,
	};
	sqlite3_stmt *st;
	int rc;

	/* Explicit deletes: correct also if foreign keys were ever off. */
	for (size_t i = 0; i < sizeof(deletes) / sizeof(deletes[0]); i++) {
		st = stmt(c, deletes[i]);
		bind_text(st, 1, id);
		if ((rc = step_done(c, st)) < 0)
			return rc;
	}
	st = stmt(c, ST_TOMB_UPSERT);
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	return step_done(c, st);
}

int ts_catalog_remove(struct ts_catalog *c, const char *id, int64_t now_ms)
{
	int rc;

	if (!ts_snapshot_id_valid(id))
		return -EINVAL;
	if ((rc = op_begin(c)) < 0)
		return rc;
	return op_end(c, remove_locked(c, id, now_ms));
}

/* Whether the one-row query @which (?1 = id) finds @id. */
static bool id_found(struct ts_catalog *c, enum stmt_id which, const char *id)
{
	sqlite3_stmt *st;
	int64_t found;

	if (!ts_snapshot_id_valid(id))
		return false;
	st = stmt(c, which);
	bind_text(st, 1, id);
	return step_int(c, st, &found) == 0 && found;
}

bool ts_catalog_has(struct ts_catalog *c, const char *id)
{
	return id_found(c, ST_SNAP_EXISTS, id);
}

bool ts_catalog_tombstoned(struct ts_catalog *c, const char *id)
{
	return id_found(c, ST_TOMB_GET, id);
}

static int read_tombstone(sqlite3_stmt *st, void *elem)
{
	return col_text(st, 0, elem, TS_SNAP_ID_LEN + 1);
}

int ts_catalog_tombstones(struct ts_catalog *c, char (**ids)[TS_SNAP_ID_LEN + 1], size_t *n)
{
	void *r;
	int rc = fetch_all(c, stmt(c, ST_TOMB_COUNT), stmt(c, ST_TOMB_LIST), sizeof(**ids),
			   read_tombstone, &r, n);

	*ids = r;
	return rc;
}

int ts_catalog_prune_tombstones(struct ts_catalog *c, int64_t older_than_ms)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = op_begin(c)) < 0)
		return rc;
	st = stmt(c, ST_TOMB_PRUNE);
	sqlite3_bind_int64(st, 1, older_than_ms);
	return op_end(c, step_done(c, st));
}

/* ---- pieces --------------------------------------------------------------- */

static int piece_add_locked(struct ts_catalog *c, const char *id, const char *volume,
			    const char *path)
{
	sqlite3_stmt *st = stmt(c, ST_SNAP_EXISTS);
	int64_t exists;
	int rc;

	bind_text(st, 1, id);
	if ((rc = step_int(c, st, &exists)) < 0)
		return rc;
	if (!exists)
		return -ENOENT;
	st = stmt(c, ST_PIECE_UPSERT);
	bind_text(st, 1, id);
	bind_text(st, 2, volume);
	bind_text(st, 3, path);
	return step_done(c, st);
}

int ts_catalog_piece_add(struct ts_catalog *c, const char *id, const char *volume,
			 const char *path)
{
	int rc;

	if (!ts_snapshot_id_valid(id) || !ts_volume_name_valid(volume) ||
	    !text_valid(path, TS_CATALOG_PATH_MAX, ""))
		return -EINVAL;
	if ((rc = op_begin(c)) < 0)
		return rc;
	return op_end(c, piece_add_locked(c, id, volume, path));
}

static int read_piece(sqlite3_stmt *st, void *elem)
{
	struct ts_catalog_piece *p = elem;

	if (col_text(st, 0, p->id, sizeof(p->id)) < 0 ||
	    col_text(st, 1, p->volume, sizeof(p->volume)) < 0 ||
	    col_text(st, 2, p->path, sizeof(p->path)) < 0)
		return -EIO;
	return 0;
}

int ts_catalog_pieces(struct ts_catalog *c, const char *id, struct ts_catalog_piece **out,
		      size_t *n)
{
	sqlite3_stmt *count_st, *list_st;
	void *r;
	int rc;

	*out = NULL;
	*n = 0;
	if (id && !ts_snapshot_id_valid(id))
		return -EINVAL;
	count_st = stmt(c, id ? ST_PIECE_COUNT_ID : ST_PIECE_COUNT_ALL);
	list_st = stmt(c, id ? ST_PIECE_LIST_ID : ST_PIECE_LIST_ALL);
	if (id) {
		bind_text(count_st, 1, id);
		bind_text(list_st, 1, id);
	}
	rc = fetch_all(c, count_st, list_st, sizeof(**out), read_piece, &r, n);
	*out = r;
	return rc;
}

int ts_catalog_piece_remove(struct ts_catalog *c, const char *id, const char *volume)
{
	sqlite3_stmt *st;
	int rc;

	if (!ts_snapshot_id_valid(id) || !ts_volume_name_valid(volume))
		return -EINVAL;
	if ((rc = op_begin(c)) < 0)
		return rc;
	st = stmt(c, ST_PIECE_DELETE);
	bind_text(st, 1, id);
	bind_text(st, 2, volume);
	rc = step_done(c, st);
	if (rc == 0 && sqlite3_changes(c->db) == 0)
		rc = -ENOENT;
	return op_end(c, rc);
}

/* ---- event log ------------------------------------------------------------ */

int ts_catalog_event_add(struct ts_catalog *c, struct ts_event *e)
{
	sqlite3_stmt *st;
	int rc;

	if (!event_valid(e))
		return -EINVAL;
	if ((rc = op_begin(c)) < 0)
		return rc;
	st = stmt(c, ST_EVENT_INSERT);
	sqlite3_bind_int64(st, 1, e->time_ms);
	bind_text(st, 2, e->kind);
	bind_text(st, 3, e->snapshot);
	bind_text(st, 4, e->vm);
	bind_text(st, 5, e->reason);
	bind_text(st, 6, e->message);
	rc = op_end(c, step_done(c, st));
	if (rc == 0)            /* this connection's last INSERT: ours */
		e->seq = sqlite3_last_insert_rowid(c->db);
	return rc;
}

static int read_event(sqlite3_stmt *st, void *elem)
{
	struct ts_event *e = elem;

	e->seq = sqlite3_column_int64(st, 0);
	e->time_ms = sqlite3_column_int64(st, 1);
	if (col_text(st, 2, e->kind, sizeof(e->kind)) < 0 ||
	    col_text(st, 3, e->snapshot, sizeof(e->snapshot)) < 0 ||
	    col_text(st, 4, e->vm, sizeof(e->vm)) < 0 ||
	    col_text(st, 5, e->reason, sizeof(e->reason)) < 0 ||
	    col_text(st, 6, e->message, sizeof(e->message)) < 0)
		return -EIO;
	return 0;
}

int ts_catalog_events(struct ts_catalog *c, int64_t after_seq, size_t limit,
		      struct ts_event **out, size_t *n)
{
	/* SQLite reads a negative LIMIT as "no limit". */
	sqlite3_int64 lim = (limit == 0 || limit > INT64_MAX) ? -1 : (sqlite3_int64)limit;
	sqlite3_stmt *count_st = stmt(c, ST_EVENT_COUNT), *list_st = stmt(c, ST_EVENT_LIST);
	void *r;
	int rc;

	sqlite3_bind_int64(count_st, 1, after_seq);
	sqlite3_bind_int64(count_st, 2, lim);
	sqlite3_bind_int64(list_st, 1, after_seq);
	sqlite3_bind_int64(list_st, 2, lim);
	rc = fetch_all(c, count_st, list_st, sizeof(**out), read_event, &r, n);
	*out = r;
	return rc;
}

/* ---- freeze intents ------------------------------------------------------- */

int ts_catalog_intent_add(struct ts_catalog *c, const char *id, const int *minors,
			  size_t n_minors, bool fsfrozen, const char *vm)
{
	char text[MINORS_TEXT_MAX];
	size_t used = 0;
	sqlite3_stmt *st;
	int rc;

	if (!ts_snapshot_id_valid(id) || !ts_vm_name_valid(vm) ||
	    n_minors > TS_SNAP_MAX_VOLUMES || (n_minors && !minors))
		return -EINVAL;
	text[0] = '\0';
	for (size_t i = 0; i < n_minors; i++) {
		if (minors[i] < 0 || minors[i] >= DRBD_MINOR_LIMIT)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (minors[i] == minors[j])
				return -EINVAL;
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%d",
					 i ? " " : "", minors[i]);
	}
	if ((rc = op_begin(c)) < 0)
		return rc;
	st = stmt(c, ST_INTENT_UPSERT);
	bind_text(st, 1, id);
	bind_text(st, 2, vm);
	sqlite3_bind_int(st, 3, fsfrozen);
	bind_text(st, 4, text);
	return op_end(c, step_done(c, st));
}

static int read_intent(sqlite3_stmt *st, void *elem)
{
	struct ts_catalog_intent *it = elem;
	const char *p = (const char *)sqlite3_column_text(st, 3);

	if (col_text(st, 0, it->id, sizeof(it->id)) < 0 ||
	    col_text(st, 1, it->vm, sizeof(it->vm)) < 0 || !p)
		return -EIO;
	it->fsfrozen = sqlite3_column_int(st, 2) != 0;
	while (*p) {
		uint64_t minor;

		if (it->n_minors == TS_SNAP_MAX_VOLUMES ||
		    parse_dec(&p, DRBD_MINOR_LIMIT - 1, &minor) < 0 || next_item(&p) < 0)
			return -EIO;
		it->minors[it->n_minors++] = (int)minor;
	}
	return 0;
}

int ts_catalog_intents(struct ts_catalog *c, struct ts_catalog_intent **out, size_t *n)
{
	void *r;
	int rc = fetch_all(c, stmt(c, ST_INTENT_COUNT), stmt(c, ST_INTENT_LIST), sizeof(**out),
			   read_intent, &r, n);

	*out = r;
	return rc;
}

int ts_catalog_intent_clear(struct ts_catalog *c, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	if (!ts_snapshot_id_valid(id))
		return -EINVAL;
	if ((rc = op_begin(c)) < 0)
		return rc;
	st = stmt(c, ST_INTENT_DELETE);
	bind_text(st, 1, id);
	rc = step_done(c, st);
	if (rc == 0 && sqlite3_changes(c->db) == 0)
		rc = -ENOENT;
	return op_end(c, rc);
}
