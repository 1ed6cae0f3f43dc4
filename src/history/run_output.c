#include "history/run_output.h"

#include <errno.h>
#include <string.h>

static const char *const stream_names[] = {"stdout", "stderr", "order"};

const char *run_stream_name(enum run_stream s)
{
	return s == RUN_STDERR || s == RUN_ORDER ? stream_names[s] : stream_names[0];
}

int run_stream_parse(const char *name, enum run_stream *out)
{
	for (int s = 0; s < 2; s++) {
		if (strcmp(name, stream_names[s]) == 0) {
			*out = (enum run_stream)s;
			return 0;
		}
	}
	return -EINVAL;
}

int run_output_open(struct run_output *o, const struct run_output_key *key, enum run_stream s,
    struct run_output_reader **out)
{
	return o->ops->open(o, key, s, out);
}

ssize_t run_output_read(struct run_output_reader *r, char *buf, size_t len)
{
	return r->o->ops->read(r, buf, len);
}

void run_output_close(struct run_output_reader *r)
{
	if (r)
		r->o->ops->close(r);
}

int run_output_tail(struct run_output *o, const struct run_output_key *key, enum run_stream s, char *buf, size_t max,
    size_t *len, int64_t *size)
{
	return o->ops->tail(o, key, s, buf, max, len, size);
}

void run_output_remove(struct run_output *o, const struct run_output_key *key)
{
	o->ops->remove(o, key);
}

void run_output_free(struct run_output *o)
{
	if (o)
		o->ops->free(o);
}

int run_output_fetch(struct run_output *o, const struct run_output_key *key, enum run_stream s,
    run_output_fetched_fn done, void *ctx)
{
	return o->ops->fetch ? o->ops->fetch(o, key, s, done, ctx) : -ENOTSUP;
}

void run_output_chunk(struct run_output *o, const struct run_output_key *key, enum run_stream s, int64_t offset,
    const char *data, size_t len)
{
	if (o->ops->chunk)
		o->ops->chunk(o, key, s, offset, data, len);
}

int run_output_ship(struct run_output *o, const struct run_output_key *key, run_output_shipped_fn done, void *ctx)
{
	return o->ops->ship ? o->ops->ship(o, key, done, ctx) : -ENOTSUP;
}

bool run_output_shipping(struct run_output *o, const struct run_output_key *key)
{
	return o->ops->shipping && o->ops->shipping(o, key);
}
