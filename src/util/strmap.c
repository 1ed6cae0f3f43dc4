#include "util/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

struct slot {
	const char *key; /* NULL: empty */
	void *value;
	uint32_t hash;
};

struct strmap {
	struct slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

/* FNV-1a, 32 bits. */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

struct strmap *strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof(*m));
	m->cap = 16;
	m->slots = xcalloc(m->cap, sizeof(struct slot));
	return m;
}

void strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}

static size_t find(const struct strmap *m, const char *key, uint32_t h)
{
	size_t mask = m->cap - 1, i = h & mask;
	while (m->slots[i].key != NULL) {
		if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static void grow(struct strmap *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(struct slot));
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		size_t j = old[i].hash & (m->cap - 1);
		while (m->slots[j].key != NULL)
			j = (j + 1) & (m->cap - 1);
		m->slots[j] = old[i];
	}
	free(old);
}

void *strmap_get(const struct strmap *m, const char *key)
{
	size_t i = find(m, key, hash_str(key));
	return m->slots[i].key ? m->slots[i].value : NULL;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
	uint32_t h = hash_str(key);
	size_t i;

	if ((m->count + 1) * 4 > m->cap * 3)
		grow(m);
	i = find(m, key, h);
	if (m->slots[i].key != NULL) {
		void *prev = m->slots[i].value;
		m->slots[i].key = key;
		m->slots[i].value = value;
		return prev;
	}
	m->slots[i] = (struct slot){.key = key, .value = value, .hash = h};
	m->count++;
	return NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i = find(m, key, hash_str(key)), j;
	void *value;

	if (m->slots[i].key == NULL)
		return NULL;
	value = m->slots[i].value;
	m->slots[i].key = NULL;
	m->count--;
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (m->slots[j].key == NULL)
			break;
		size_t home = m->slots[j].hash & mask;
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
	return value;
}
