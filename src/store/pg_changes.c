/* What a write changed, announced to the followers (pg_store.h: pg_changes). */
#include "store/pg_store.h"

#include <string.h>

#include "util/xmalloc.h"

void pg_changes_add(struct pg_changes *ch, char kind, const char *key)
{
	size_t need = strlen(key) + 3; /* "k KEY\n" */

	if (ch->all)
		return;
	if (ch->len + need > PG_CHANGES_MAX || strchr(key, '\n')) {
		ch->all = true;
		return;
	}
	ch->buf[ch->len++] = kind;
	ch->buf[ch->len++] = ' ';
	memcpy(ch->buf + ch->len, key, need - 3);
	ch->len += need - 3;
	ch->buf[ch->len++] = '\n';
	ch->buf[ch->len] = '\0';
}

void pg_changes_notify(struct pg_batch *b, struct pg_changes *ch)
{
	const char *payload = ch->all ? "*" : ch->buf;

	if (!ch->all && ch->len == 0)
		return;
	pg_batch_add(b, "SELECT pg_notify('" PG_CHANGES_CHANNEL "', $1)", 1, (const char *const[]){payload});
}
