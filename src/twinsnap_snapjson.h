/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap_snapjson — a snapshot as the CLI shows it (CLI.md, twinsnap(8)
 * JSON OUTPUT): its derived fields (state, consistency), and its JSON
 * object, built with json-c (create, show) or written straight into a
 * streamed list (snapshot list: no object per row).  Both renderings live
 * here so that they cannot drift; tests/check_jstream holds them to the
 * same bytes.  Invalid UTF-8 from the agent becomes U+FFFD in JSON.
 */
#ifndef TS_TWINSNAP_SNAPJSON_H
#define TS_TWINSNAP_SNAPJSON_H

#include <json-c/json.h>

#include "twinsnap.pb-c.h"
#include "twinsnap_jstream.h"

/** "broken" or "normal" (the agent's, else derived from the phase). */
const char *snapjson_state(const Twinsnap__Snapshot *s);

/** The consistency asked for ("crash" when the agent left it empty). */
const char *snapjson_requested(const Twinsnap__Snapshot *s);

/** The consistency achieved, NULL while there is none (before the freeze). */
const char *snapjson_achieved(const Twinsnap__Snapshot *s);

/** What was achieved; for a snapshot still in flight, what was asked for. */
const char *snapjson_shown(const Twinsnap__Snapshot *s);

/** A JSON string of @s; invalid UTF-8 (which JSON cannot carry) becomes U+FFFD. */
struct json_object *snapjson_str(const char *s);

/** The snapshot object; the caller owns the reference. */
struct json_object *snapjson_object(const Twinsnap__Snapshot *s);

/** Append the snapshot object to @js's list: the bytes of jstream_row(snapjson_object()). */
void snapjson_write(struct jstream *js, const Twinsnap__Snapshot *s);

#endif
