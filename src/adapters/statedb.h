/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * statedb — the PM's durable state in SQLite (one database per PM, WAL,
 * synchronous=FULL): for now the replicated cluster settings.  Every change
 * is one transaction; a crash leaves the last committed state.
 */
#ifndef TS_STATEDB_H
#define TS_STATEDB_H

#include "core/settings.h"

struct ts_statedb;

/**
 * Open (creating the directory and schema when needed) DIR/twinsnap.db.
 * On failure returns -errno or -EIO and sets *errmsg (malloc'd).
 */
int ts_statedb_open(const char *dir, struct ts_statedb **out, char **errmsg);
void ts_statedb_close(struct ts_statedb *db);

/** Merge every stored setting into @s. */
int ts_statedb_load_settings(struct ts_statedb *db, struct ts_settings *s);

/** Store one setting (insert or replace) in its own transaction. */
int ts_statedb_save_setting(struct ts_statedb *db, const struct ts_setting *st);

#endif
