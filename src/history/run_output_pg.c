/* Runs' output in PostgreSQL (run_output_pg.h): the local backend's reads, and the durable copy's writer and
 * reader. */
#include "history/run_output_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_schema.h"
#include "store/pg_store.h"
#include "store/pgconn.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define IN_FLIGHT_MAX 4                   /* requests of output sent and not ended */
#define BATCH_ITEMS 64                    /* items in one request (one transaction) ... */
#define BATCH_BYTES ((size_t)1 << 20)     /* ... and this much output at most, unless one item alone is more */
#define RETRY_MS_DEFAULT 1000             /* the tick: failed shipments sent again, chunks flushed */
#define CHUNK_FLUSH_MS 2000               /* a stream's live chunks are sent this long after the first ... */
#define CHUNK_FLUSH_BYTES ((size_t)64 << 10) /* ... or once this much gathered */
#define READ_PIECE ((size_t)64 << 10)
#define FETCH_TIMEOUT_MS 3000             /* a read (the API waits 5 s, then reads the files) */

static const char sql_clear[] = "DELETE FROM run_output WHERE task_id = $1";
/* A stream's final content, while its run's row is there (a run pruned meanwhile takes nothing). */
static const char sql_final[] = "INSERT INTO run_output (task_id, stream, off, bytes) SELECT $1, $2, 0, $3::bytea "
				"WHERE EXISTS (SELECT 1 FROM runs WHERE task_id = $1)";
/* Live chunks, while the run is open: none after its final content. */
static const char sql_chunk[] = "INSERT INTO run_output (task_id, stream, off, bytes) SELECT $1, $2, $3, $4::bytea "
				"WHERE EXISTS (SELECT 1 FROM runs WHERE task_id = $1 AND status IN ('queued', 'waiting', "
				"'starting', 'running')) ON CONFLICT DO NOTHING";
static const char sql_fetch[] = "SELECT off, bytes FROM run_output WHERE task_id = $1 AND stream = $2 ORDER BY off";

struct opg;

/* One request to make: a run's final output, or a batch of one stream's live chunks. */
struct item {
	struct opg *op;
	bool final;
	bool sent;
	char *task_id;
	int stream;               /* a chunk batch's */
	int64_t offset;           /* a chunk batch's first byte */
	char *data[RUN_NSTREAMS]; /* final: stdout, stderr, order (NULL: no such stream here); chunks: data[0] */
	size_t len[RUN_NSTREAMS];
	size_t cap;               /* chunks: data[0]'s */
	uint64_t since;           /* chunks: loop time of the first */
	char key[8 + 512];        /* chunks: the open batch's key in op->open */
	run_output_shipped_fn done;
	void *ctx;
	struct item *prev, *next;
};

struct opg {
	struct run_output base;
	uv_loop_t *loop;
	struct pg_store *p;
	struct run_output *local;
	struct item *head, *tail;   /* in the order made */
	struct strmap *open;        /* chunk batches not sent yet, by "<stream>:<task id>" */
	size_t n_items, bytes, buffer_max;
	int in_flight;
	uint64_t retry_ms, timeout_ms;
	struct pgconn *c;           /* its own connection */
	bool blocked;               /* a shipment failed for a reason that may pass: wait for the tick */
	bool trouble;               /* ... and it was logged */
	bool stopped;
	uv_timer_t tick;
};

static struct opg *of(struct run_output *o)
{
	return (struct opg *)o; /* base is its first member */
}

static size_t item_bytes(const struct item *it)
{
	return it->len[0] + it->len[1] + it->len[2];
}

static void unlink_item(struct opg *op, struct item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		op->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		op->tail = it->prev;
	if (!it->final && !it->sent && strmap_get(op->open, it->key) == it)
		strmap_remove(op->open, it->key);
	op->n_items--;
	op->bytes -= item_bytes(it);
}

static void append_item(struct opg *op, struct item *it)
{
	it->op = op;
	it->prev = op->tail;
	if (op->tail)
		op->tail->next = it;
	else
		op->head = it;
	op->tail = it;
	op->n_items++;
	op->bytes += item_bytes(it);
}

static void item_free(struct item *it)
{
	free(it->task_id);
	free(it->data[0]);
	free(it->data[1]);
	free(it->data[2]);
	free(it);
}

/* Out of the queue, its done told status, freed. */
static void item_end(struct opg *op, struct item *it, int status)
{
	unlink_item(op, it);
	if (it->done)
		it->done(it->ctx, status);
	item_free(it);
}

/* bytes as bytea's text input ("\x" and hex), malloc'd. */
static char *hex(const char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = xmalloc(2 * len + 3), *w = out;

	*w++ = '\\';
	*w++ = 'x';
	for (size_t i = 0; i < len; i++) {
		*w++ = digits[(unsigned char)data[i] >> 4];
		*w++ = digits[(unsigned char)data[i] & 15];
	}
	*w = '\0';
	return out;
}

static bool may_pass(int status)
{
	return status == -ENOTCONN || status == -ECONNRESET || status == -ETIMEDOUT || status == -EAGAIN ||
	       status == -ENOSPC;
}

static void pump(struct opg *op);
static void on_tick(uv_timer_t *t);

/* The tick runs while anything waits. */
static void arm(struct opg *op)
{
	if (!op->stopped && op->head && !uv_is_active((uv_handle_t *)&op->tick))
		uv_timer_start(&op->tick, on_tick, op->retry_ms, op->retry_ms);
}

/* A request in flight: the items it carries. */
struct batch {
	struct opg *op;
	struct item *items[BATCH_ITEMS];
	int n;
};

/* An item's request ended with status (err: the server's message). */
static void item_sent(struct opg *op, struct item *it, int status, const char *err)
{
	if (status == 0) {
		if (op->trouble && it->final) {
			log_info("PostgreSQL: runs' output is stored again (%zu waiting)", op->n_items - 1);
			op->trouble = false;
		}
		item_end(op, it, 0);
	} else if (it->final && may_pass(status) && !op->stopped) {
		it->sent = false; /* again at the next tick, in its place */
		op->blocked = true;
		if (!op->trouble)
			log_warnx("PostgreSQL: runs' output cannot be stored now (%s): %zu shipment(s) wait in memory "
				  "(at most %zu KiB), sent again every %" PRIu64 " ms; past that the oldest stay only in "
				  "this server's DATA_DIR/logs", err ? err : strerror(-status), op->n_items,
			    op->buffer_max >> 10, op->retry_ms);
		op->trouble = true;
	} else {
		if (it->final && status != -ECANCELED)
			log_warnx("PostgreSQL: the output of run %s is not stored there (%s: %s): it stays in this "
				  "server's DATA_DIR/logs only", it->task_id, strerror(-status), err ? err : "");
		item_end(op, it, status);
	}
}

static void on_sent(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct batch *b = ctx;
	struct opg *op = b->op;

	(void)res;
	(void)n;
	op->in_flight--;
	for (int i = 0; i < b->n; i++)
		item_sent(op, b->items[i], status, err);
	free(b);
	pump(op);
}

/* Add an item's statements to a request. */
static void add_item(struct pg_batch *pb, const struct item *it)
{
	char stream[4], off[24], *bytes;

	if (it->final) {
		pg_batch_add(pb, sql_clear, 1, (const char *const[]){it->task_id});
		for (int s = 0; s < RUN_NSTREAMS; s++) {
			if (it->data[s] == NULL || it->len[s] == 0)
				continue;
			snprintf(stream, sizeof(stream), "%d", s);
			bytes = hex(it->data[s], it->len[s]);
			pg_batch_add(pb, sql_final, 3, (const char *const[]){it->task_id, stream, bytes});
			free(bytes);
		}
		return;
	}
	snprintf(stream, sizeof(stream), "%d", it->stream);
	snprintf(off, sizeof(off), "%" PRId64, it->offset);
	bytes = hex(it->data[0], it->len[0]);
	pg_batch_add(pb, sql_chunk, 4, (const char *const[]){it->task_id, stream, off, bytes});
	free(bytes);
}

/* Send b's items as one request (one transaction), fenced with the store's epoch when it has one. 0, or the
 * error (the items stay unsent). */
static int send_batch(struct opg *op, struct batch *b)
{
	struct pg_batch pb = {0};
	uint64_t epoch = pg_store_epoch(op->p);
	char e[24];
	int rc;

	if (epoch) {
		snprintf(e, sizeof(e), "%" PRIu64, epoch);
		pg_batch_add(&pb, PG_SCHEMA_FENCE_SQL, 1, (const char *const[]){e});
	}
	for (int i = 0; i < b->n; i++)
		add_item(&pb, b->items[i]);
	rc = pgconn_send(op->c, pb.st, pb.n, op->timeout_ms, on_sent, b);
	pg_batch_clear(&pb);
	if (rc < 0)
		return rc;
	for (int i = 0; i < b->n; i++) {
		struct item *it = b->items[i];
		if (!it->final && strmap_get(op->open, it->key) == it)
			strmap_remove(op->open, it->key); /* no more appends: a new batch takes the next chunks */
		it->sent = true;
	}
	op->in_flight++;
	return 0;
}

/* Whether an unsent item may go now (chunks wait to gather). */
static bool ready(const struct opg *op, const struct item *it, uint64_t now)
{
	return it->final || it->len[0] >= CHUNK_FLUSH_BYTES || now >= it->since + CHUNK_FLUSH_MS || op->stopped;
}

/* Send what may go, in order, in requests of up to BATCH_ITEMS items (BATCH_BYTES of output), IN_FLIGHT_MAX of
 * them in flight. */
static void pump(struct opg *op)
{
	uint64_t now = uv_now(op->loop);
	struct item *it = op->head;
	int rc;

	while (!op->stopped && !op->blocked && op->in_flight < IN_FLIGHT_MAX) {
		struct batch *b = xcalloc(1, sizeof(*b));
		size_t bytes = 0;
		b->op = op;
		for (; it && b->n < BATCH_ITEMS && bytes < BATCH_BYTES; it = it->next) {
			if (!it->sent && ready(op, it, now)) {
				b->items[b->n++] = it;
				bytes += item_bytes(it);
			}
		}
		if (b->n == 0) {
			free(b);
			break;
		}
		if ((rc = send_batch(op, b)) < 0) {
			free(b);
			op->blocked = true; /* the tick tries again */
			if (!op->trouble)
				log_warnx("PostgreSQL: runs' output cannot be sent now (%s): it waits in memory",
				    strerror(-rc));
			op->trouble = true;
		}
	}
	arm(op);
}

static void on_tick(uv_timer_t *t)
{
	struct opg *op = t->data;

	op->blocked = false;
	pump(op);
	if (op->head == NULL)
		uv_timer_stop(t);
}

/* Give the oldest waiting shipments up until want more bytes fit; whether they do. */
static bool make_room(struct opg *op, size_t want)
{
	struct item *it = op->head, *next;

	for (; it && op->bytes + want > op->buffer_max; it = next) {
		next = it->next;
		if (it->sent)
			continue;
		if (it->final)
			log_warnx("PostgreSQL: the output waiting for it passed %zu KiB: run %s's is given up (it stays in "
				  "this server's DATA_DIR/logs only)", op->buffer_max >> 10, it->task_id);
		item_end(op, it, -ENOBUFS);
	}
	return op->bytes + want <= op->buffer_max;
}

/* Read a whole stream from the local backend (its first max bytes): 0 with *data (NULL when there is none) and
 * *len, or a negative errno. */
static int read_local(struct opg *op, const struct run_output_key *key, enum run_stream s, char **data, size_t *len)
{
	struct run_output_reader *r;
	size_t cap = 0;
	ssize_t n;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = run_output_open(op->local, key, s, &r)) < 0)
		return rc;
	do {
		if (*len == RUN_OUTPUT_PG_FINAL_MAX) {
			log_warnx("run %s: its %s passed %zu MiB: its head alone is stored in PostgreSQL", key->task_id,
			    run_stream_name(s), RUN_OUTPUT_PG_FINAL_MAX >> 20);
			break;
		}
		if (cap - *len < READ_PIECE) {
			cap = cap ? 2 * cap : READ_PIECE;
			if (cap > RUN_OUTPUT_PG_FINAL_MAX)
				cap = RUN_OUTPUT_PG_FINAL_MAX;
			*data = xrealloc(*data, cap);
		}
		n = run_output_read(r, *data + *len, cap - *len < READ_PIECE ? cap - *len : READ_PIECE);
		if (n > 0)
			*len += (size_t)n;
	} while (n > 0);
	run_output_close(r);
	if (n < 0) {
		free(*data);
		*data = NULL;
		*len = 0;
		return (int)n;
	}
	if (*len == 0) {
		free(*data);
		*data = NULL;
	}
	return 0;
}

static int opg_ship(struct run_output *o, const struct run_output_key *key, run_output_shipped_fn done, void *ctx)
{
	struct opg *op = of(o);
	struct item *it;
	int rc;

	if (op->stopped)
		return -ESHUTDOWN;
	/* its live chunks not sent yet are moot: the final content replaces them */
	for (int s = 0; s < 2; s++) {
		char k[sizeof(it->key)];
		snprintf(k, sizeof(k), "%d:%s", s, key->task_id);
		if ((it = strmap_get(op->open, k)) != NULL)
			item_end(op, it, 0);
	}
	it = xcalloc(1, sizeof(*it));
	it->final = true;
	it->task_id = xstrdup(key->task_id);
	it->done = done;
	it->ctx = ctx;
	for (int s = 0; s < RUN_NSTREAMS; s++) {
		if ((rc = read_local(op, key, (enum run_stream)s, &it->data[s], &it->len[s])) < 0) {
			log_warnx("run %s: its %s cannot be read to be stored in PostgreSQL: %s", key->task_id,
			    run_stream_name((enum run_stream)s), strerror(-rc));
			item_free(it);
			return rc;
		}
	}
	(void)make_room(op, item_bytes(it)); /* a final fits once the others went: it is at most 3 FINAL_MAX */
	append_item(op, it);
	pump(op);
	return 0;
}

static void opg_chunk(struct run_output *o, const struct run_output_key *key, enum run_stream s, int64_t offset,
    const char *data, size_t len)
{
	struct opg *op = of(o);
	char k[sizeof(((struct item *)NULL)->key)];
	struct item *it;

	if (op->stopped || len == 0 || strlen(key->task_id) > 500)
		return;
	snprintf(k, sizeof(k), "%d:%s", (int)s, key->task_id);
	it = strmap_get(op->open, k);
	if (it && it->offset + (int64_t)it->len[0] == offset) {
		if (op->bytes + len > op->buffer_max)
			return; /* best effort: past the bound, live chunks are dropped */
		if (it->cap - it->len[0] < len) {
			it->cap = 2 * (it->len[0] + len);
			it->data[0] = xrealloc(it->data[0], it->cap);
		}
		memcpy(it->data[0] + it->len[0], data, len);
		it->len[0] += len;
		op->bytes += len;
	} else {
		if (op->bytes + len > op->buffer_max)
			return;
		if (it)
			strmap_remove(op->open, k); /* not contiguous: it goes as it is */
		it = xcalloc(1, sizeof(*it));
		it->task_id = xstrdup(key->task_id);
		it->stream = (int)s;
		it->offset = offset;
		it->cap = len > CHUNK_FLUSH_BYTES ? len : CHUNK_FLUSH_BYTES;
		it->data[0] = xmalloc(it->cap);
		memcpy(it->data[0], data, len);
		it->len[0] = len;
		it->since = uv_now(op->loop);
		memcpy(it->key, k, sizeof(k));
		append_item(op, it);
		strmap_put(op->open, it->key, it);
	}
	if (it->len[0] >= CHUNK_FLUSH_BYTES)
		pump(op);
	else
		arm(op);
}

static bool opg_shipping(struct run_output *o, const struct run_output_key *key)
{
	for (struct item *it = of(o)->head; it; it = it->next)
		if (it->final && strcmp(it->task_id, key->task_id) == 0)
			return true;
	return false;
}

/* A fetch in flight. */
struct fetch {
	run_output_fetched_fn done;
	void *ctx;
};

static void on_fetched(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct fetch *f = ctx;
	char *data = NULL;
	size_t len = 0, cap = 0;
	int rows;

	(void)err;
	if (status < 0 || n < 1) {
		f->done(f->ctx, status < 0 ? status : -EIO, false, NULL, 0);
		free(f);
		return;
	}
	rows = PQntuples(res[0]);
	for (int row = 0; row < rows; row++) {
		size_t blen;
		unsigned char *b;
		if (strtoll(PQgetvalue(res[0], row, 0), NULL, 10) != (long long)len)
			break; /* a gap in live chunks: what comes after it cannot be placed */
		if ((b = PQunescapeBytea((const unsigned char *)PQgetvalue(res[0], row, 1), &blen)) == NULL)
			break;
		if (cap - len < blen) {
			cap = 2 * (len + blen);
			data = xrealloc(data, cap);
		}
		memcpy(data + len, b, blen);
		len += blen;
		PQfreemem(b);
	}
	f->done(f->ctx, 0, rows > 0, data, len);
	free(data);
	free(f);
}

static int opg_fetch(struct run_output *o, const struct run_output_key *key, enum run_stream s,
    run_output_fetched_fn done, void *ctx)
{
	struct opg *op = of(o);
	struct fetch *f = xcalloc(1, sizeof(*f));
	char stream[4];
	const char *params[] = {key->task_id, stream};
	int rc;

	snprintf(stream, sizeof(stream), "%d", (int)s);
	f->done = done;
	f->ctx = ctx;
	/* A read is not worth waiting for a connection that broke (the files answer), but the first one is still
	 * being made just after the start. */
	if (op->stopped || (!pgconn_is_up(op->c) && pgconn_connections(op->c) > 0))
		rc = -ENOTCONN;
	else
		rc = pgconn_send(op->c, &(const struct pg_stmt){sql_fetch, 2, params}, 1, FETCH_TIMEOUT_MS, on_fetched,
		    f);
	if (rc < 0)
		free(f);
	return rc;
}

/* The local backend's. */
static int opg_open(struct run_output *o, const struct run_output_key *key, enum run_stream s,
    struct run_output_reader **out)
{
	return run_output_open(of(o)->local, key, s, out);
}

static ssize_t opg_read(struct run_output_reader *r, char *buf, size_t len)
{
	return r->o->ops->read(r, buf, len); /* readers are the local backend's */
}

static void opg_close(struct run_output_reader *r)
{
	r->o->ops->close(r);
}

static int opg_tail(struct run_output *o, const struct run_output_key *key, enum run_stream s, char *buf, size_t max,
    size_t *len, int64_t *size)
{
	return run_output_tail(of(o)->local, key, s, buf, max, len, size);
}

/* The table's rows go with their run's (ON DELETE CASCADE). */
static void opg_remove(struct run_output *o, const struct run_output_key *key)
{
	run_output_remove(of(o)->local, key);
}

static void on_tick_closed(uv_handle_t *h)
{
	(void)h;
}

void run_output_pg_stop(struct run_output *o)
{
	struct opg *op = of(o);

	if (op->stopped)
		return;
	op->stopped = true;
	uv_close((uv_handle_t *)&op->tick, on_tick_closed);
	pgconn_close(op->c); /* what is in flight ends, -ECANCELED */
	op->c = NULL;
	for (struct item *it = op->head, *next; it; it = next) {
		next = it->next;
		if (!it->sent)
			item_end(op, it, -ECANCELED);
	}
}

static void opg_free(struct run_output *o)
{
	struct opg *op = of(o);

	/* stopped, the connection closed: nothing is in flight */
	for (struct item *it = op->head, *next; it; it = next) {
		next = it->next;
		item_free(it);
	}
	strmap_free(op->open);
	run_output_free(op->local);
	pg_store_unref(op->p);
	free(op);
}

static const struct run_output_ops pg_ops = {
	.open = opg_open,
	.read = opg_read,
	.close = opg_close,
	.tail = opg_tail,
	.remove = opg_remove,
	.free = opg_free,
	.fetch = opg_fetch,
	.chunk = opg_chunk,
	.ship = opg_ship,
	.shipping = opg_shipping,
};

int run_output_pg_new(uv_loop_t *loop, struct pg_store *p, const char *conninfo, struct run_output *local,
    struct run_output **out, char *err, size_t errlen)
{
	struct opg *op = xcalloc(1, sizeof(*op));
	int rc;

	if ((rc = pgconn_new(loop, conninfo, &op->c, err, errlen)) < 0) {
		free(op);
		return rc;
	}
	op->base.ops = &pg_ops;
	op->loop = loop;
	op->p = p;
	pg_store_ref(p);
	op->local = local;
	op->open = strmap_new();
	op->buffer_max = RUN_OUTPUT_PG_BUFFER_MAX;
	op->retry_ms = RETRY_MS_DEFAULT;
	op->timeout_ms = PGCONN_TIMEOUT_DEFAULT_MS;
	uv_timer_init(loop, &op->tick);
	op->tick.data = op;
	*out = &op->base;
	return 0;
}

void run_output_pg_set_limits(struct run_output *o, size_t buffer_max, uint64_t retry_ms, uint64_t timeout_ms)
{
	of(o)->buffer_max = buffer_max;
	of(o)->retry_ms = retry_ms;
	of(o)->timeout_ms = timeout_ms;
}

size_t run_output_pg_pending(const struct run_output *o, size_t *bytes)
{
	const struct opg *op = (const struct opg *)o;

	if (bytes)
		*bytes = op->bytes;
	return op->n_items;
}
