/* A follower's changes (server_follow.h). */
#include "server/server_follow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/registry.h"
#include "server/server_load.h"
#include "store/mem_state.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* Keys of one kind, each once: an array, and a map over it for the look-ups. */
struct keyset {
	char **v;
	size_t n, cap;
	struct strmap *seen; /* key -> key */
};

enum { K_JOBS, K_RUNS, K_CHILDREN, K_KINDS };

struct follow_keys {
	struct keyset set[K_KINDS];
	size_t total;
};

struct follow_keys *follow_keys_new(void)
{
	struct follow_keys *k = xcalloc(1, sizeof(*k));

	for (int i = 0; i < K_KINDS; i++)
		k->set[i].seen = strmap_new();
	return k;
}

void follow_keys_free(struct follow_keys *k)
{
	if (k == NULL)
		return;
	for (int i = 0; i < K_KINDS; i++) {
		for (size_t j = 0; j < k->set[i].n; j++)
			free(k->set[i].v[j]);
		free(k->set[i].v);
		strmap_free(k->set[i].seen);
	}
	free(k);
}

static void keyset_add(struct follow_keys *k, struct keyset *s, const char *key, size_t len)
{
	char *copy = xstrndup(key, len);

	if (strmap_get(s->seen, copy)) {
		free(copy);
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = copy;
	strmap_put(s->seen, copy, copy);
	k->total++;
}

bool follow_keys_add(struct follow_keys *k, const char *payload)
{
	const char *line = payload;

	while (*line) {
		size_t len = strcspn(line, "\n");
		int kind = -1;
		if (len >= 2 && line[1] == ' ')
			kind = line[0] == 'j' ? K_JOBS : line[0] == 'r' ? K_RUNS : line[0] == 'd' ? K_CHILDREN : -1;
		if (kind >= 0)
			keyset_add(k, &k->set[kind], line + 2, len - 2);
		else if (!(len >= 1 && line[0] == 'e'))
			return false; /* "*", or a line of a kind unknown here */
		if (k->total > FOLLOW_KEYS_MAX)
			return false;
		line += len;
		if (*line == '\n')
			line++;
	}
	return true;
}

bool follow_keys_empty(const struct follow_keys *k)
{
	return k->total == 0;
}

void follow_keys_view(const struct follow_keys *k, struct pg_refresh_keys *out)
{
	*out = (struct pg_refresh_keys){
	    .jobs = (const char *const *)k->set[K_JOBS].v,
	    .n_jobs = k->set[K_JOBS].n,
	    .runs = (const char *const *)k->set[K_RUNS].v,
	    .n_runs = k->set[K_RUNS].n,
	    .children = (const char *const *)k->set[K_CHILDREN].v,
	    .n_children = k->set[K_CHILDREN].n,
	};
}

size_t follow_apply_jobs(const struct follow_keys *k, struct state *mirror, struct registry *reg,
    const struct job_defaults *defaults, int64_t now_ms)
{
	const struct keyset *jobs = &k->set[K_JOBS];
	size_t changed = 0;
	bool added_or_removed = false;

	for (size_t i = 0; i < jobs->n; i++) {
		struct state_job row;
		if (!mem_state_get_job(mirror, jobs->v[i], &row)) {
			if (registry_get(reg, jobs->v[i])) {
				registry_remove(reg, jobs->v[i]);
				added_or_removed = true;
				changed++;
			}
			continue;
		}
		bool known = registry_get(reg, jobs->v[i]) != NULL;
		if (server_load_one(&row, reg, defaults, now_ms) == 0) {
			added_or_removed |= !known;
			changed++;
		}
	}
	/* A job replaced keeps its children's edges and links its own parents (registry_put); only a job added (a
	 * child put before its parent in this batch, a parent its children named while it was gone) or removed (its
	 * children lose their edges) changes other jobs' edges: then, and only then, every edge is made again. The
	 * common batch, runs ending and their jobs' progress saved, costs no walk of the whole registry. */
	if (added_or_removed)
		registry_relink(reg);
	return changed;
}
