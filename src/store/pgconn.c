/* One PostgreSQL connection on the loop (pgconn.h): libpq's nonblocking connect, pipeline mode, and a queue of
 * requests (statements closed by a Sync) whose results come back in the order they were sent. */
#include "store/pgconn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

/* One attempt, from PQconnectStart to the connection being up. Short, and attempts close together (at most
 * BACKOFF_MAX_MS apart): an attempt made while the network drops its packets waits for the kernel's next SYN (1 s,
 * then 3 s later), so once a partition heals the next SYN to get through leaves within about 1.5 s. */
#define CONNECT_TIMEOUT_MS 2000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 500

/* TCP settings given to libpq before the connection string, which overrides them (pgconn.h). A request sent on a
 * connection whose packets are dropped (a partition) would wait for the request's own deadline (--state-timeout,
 * 10 s): TCP_USER_TIMEOUT ends the connection once data has gone unacknowledged that long, which a slow query
 * never causes (the server's kernel acknowledges what it receives), and keepalives do the same for an idle one. */
static const char *const TCP_KEYS[] = {"tcp_user_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
	"keepalives_count"};
static const char *const TCP_VALUES[] = {"3000", "1", "5", "1", "3"};
#define N_TCP (sizeof(TCP_KEYS) / sizeof(TCP_KEYS[0]))

/* A statement of a request: copies of its SQL and parameters. */
struct stmt {
	char *sql;
	int n_params;
	char **params;
};

struct request {
	struct request *next;
	struct stmt *stmts;
	int n, got;            /* statements; results taken so far */
	PGresult **res;
	int status; /* the first failure among its statements, 0: none */
	char *err;  /* its message */
	uint64_t deadline; /* uv_now() ms */
	pgconn_done_fn done;
	void *ctx;
};

/* Requests in order: appended at the tail, taken at the head. */
struct queue {
	struct request *head, *tail;
};

/* The uv_poll of one socket of libpq's (a socket may be replaced while a connection is made). */
struct watch {
	uv_poll_t poll;
	struct pgconn *c;
	int fd, events;
};

enum conn_state { DOWN, CONNECTING, UP };

struct pgconn {
	uv_loop_t *loop;
	char *conninfo;
	PGconn *pg;
	enum conn_state st;
	struct watch *watch; /* NULL: none */
	uv_timer_t retry;    /* DOWN: the next attempt; CONNECTING: this attempt's deadline */
	uv_timer_t deadline; /* the earliest deadline of a request */
	uv_timer_t kick;     /* send what was queued, on the loop's next turn */
	struct queue pending, inflight;
	uint64_t backoff_ms, connections;
	int backend_pid;
	int handles; /* closing: timers still to close */
	bool closing;
	char *channel;             /* LISTENed to on every connection, NULL: none */
	pgconn_notify_fn notify;
	void *notify_ctx;
	char error[256]; /* why the connection is down (for the requests that time out waiting for it) */
};

static void on_poll(uv_poll_t *p, int status, int events);
static void arm_deadline(struct pgconn *c);

static void queue_push(struct queue *q, struct request *r)
{
	r->next = NULL;
	if (q->tail)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
}

static struct request *queue_pop(struct queue *q)
{
	struct request *r = q->head;

	if (r && (q->head = r->next) == NULL)
		q->tail = NULL;
	return r;
}

static void request_free(struct request *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->stmts[i].sql);
		for (int k = 0; k < r->stmts[i].n_params; k++)
			free(r->stmts[i].params[k]);
		free(r->stmts[i].params);
		if (i < r->got && r->res[i])
			PQclear(r->res[i]);
	}
	free(r->stmts);
	free(r->res);
	free(r->err);
	free(r);
}

/* End r (out of every queue) with status, then free it. */
static void request_end(struct request *r, int status, const char *err)
{
	if (status == 0 && r->status == 0 && r->got == r->n)
		r->done(r->ctx, 0, r->res, r->n, NULL);
	else if (status == 0)
		r->done(r->ctx, r->status ? r->status : -EIO, NULL, 0, r->err ? r->err : "an incomplete answer");
	else
		r->done(r->ctx, status, NULL, 0, err);
	request_free(r);
}

/* Keep why the connection failed (libpq's message, without its trailing newline). */
static void keep_error(struct pgconn *c, const char *what, const char *msg)
{
	size_t len;

	snprintf(c->error, sizeof(c->error), "%s%s%s", what, msg && *msg ? ": " : "", msg ? msg : "");
	/* libpq's messages come on several lines: one line, single spaces */
	for (char *p = c->error, *q = c->error;; p++) {
		char ch = *p == '\n' || *p == '\t' ? ' ' : *p;
		if (ch != ' ' || q == c->error || q[-1] != ' ')
			*q++ = ch;
		if (ch == '\0')
			break;
	}
	len = strlen(c->error);
	while (len > 0 && c->error[len - 1] == ' ')
		c->error[--len] = '\0';
}

static void on_watch_closed(uv_handle_t *h)
{
	free(h->data);
}

static void watch_close(struct pgconn *c)
{
	if (c->watch == NULL)
		return;
	uv_close((uv_handle_t *)&c->watch->poll, on_watch_closed);
	c->watch = NULL;
}

/* Watch libpq's socket for events (UV_READABLE, UV_WRITABLE): a new watch when the socket changed. A watch that
 * exists is stopped and started again, which registers the socket anew (libpq may have closed and reopened a
 * socket with the same number while it connected). 0 or a negative errno. */
static int watch_set(struct pgconn *c, int events)
{
	int fd = PQsocket(c->pg), rc;

	if (fd < 0)
		return -EBADF;
	if (c->watch && c->watch->fd == fd && c->watch->events == events && c->st == UP &&
	    uv_is_active((uv_handle_t *)&c->watch->poll))
		return 0;
	if (c->watch && c->watch->fd != fd)
		watch_close(c);
	if (c->watch == NULL) {
		c->watch = xcalloc(1, sizeof(*c->watch));
		c->watch->c = c;
		c->watch->fd = fd;
		c->watch->poll.data = c->watch;
		if ((rc = uv_poll_init_socket(c->loop, &c->watch->poll, fd)) < 0) {
			free(c->watch);
			c->watch = NULL;
			return rc;
		}
	} else {
		(void)uv_poll_stop(&c->watch->poll);
	}
	c->watch->events = events;
	return uv_poll_start(&c->watch->poll, events, on_poll);
}

static void on_retry(uv_timer_t *t);

/* Down: close the connection, fail the requests in flight (-ETIMEDOUT for those past their deadline, else
 * status), and try again after the backoff. */
static void drop(struct pgconn *c, int status, const char *what, const char *msg)
{
	uint64_t now = uv_now(c->loop);
	struct request *r;

	keep_error(c, what, msg);
	if (c->st == UP)
		log_warnx("pg: %s", c->error);
	watch_close(c);
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	c->st = DOWN;
	uv_timer_start(&c->retry, on_retry, c->backoff_ms, 0);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
	while (!c->closing && (r = queue_pop(&c->inflight)) != NULL)
		request_end(r, r->deadline <= now ? -ETIMEDOUT : status, c->error);
	if (!c->closing)
		arm_deadline(c);
}

/* The server's notices ("relation already exists, skipping") are not errors: debug lines. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("pg: %.*s", (int)strcspn(message, "\n"), message);
}

static void connect_start(struct pgconn *c)
{
	int rc;

	const char *keys[N_TCP + 2], *values[N_TCP + 2];

	for (size_t i = 0; i < N_TCP; i++) {
		keys[i] = TCP_KEYS[i];
		values[i] = TCP_VALUES[i];
	}
	keys[N_TCP] = "dbname"; /* expanded: the connection string's own settings override those above */
	values[N_TCP] = c->conninfo;
	keys[N_TCP + 1] = values[N_TCP + 1] = NULL;
	c->pg = PQconnectStartParams(keys, values, 1);
	if (c->pg == NULL)
		fatalx("pg: out of memory");
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		drop(c, -ECONNRESET, "connecting to PostgreSQL", PQerrorMessage(c->pg));
		return;
	}
	PQsetNoticeProcessor(c->pg, on_notice, NULL);
	c->st = CONNECTING;
	/* PQconnectStart acts as if PQconnectPoll had said PGRES_POLLING_WRITING */
	if ((rc = watch_set(c, UV_WRITABLE)) < 0) {
		drop(c, -ECONNRESET, "watching PostgreSQL's socket", uv_strerror(rc));
		return;
	}
	uv_timer_start(&c->retry, on_retry, CONNECT_TIMEOUT_MS, 0);
}

static void on_retry(uv_timer_t *t)
{
	struct pgconn *c = t->data;

	if (c->st == DOWN)
		connect_start(c);
	else if (c->st == CONNECTING)
		drop(c, -ETIMEDOUT, "connecting to PostgreSQL", "no answer within 5 s");
}

/* Write what libpq holds, and watch for what fits: the answers, and room to write more. */
static void flush(struct pgconn *c)
{
	int rc = PQflush(c->pg), w;

	if (rc < 0) {
		drop(c, -ECONNRESET, "writing to PostgreSQL", PQerrorMessage(c->pg));
		return;
	}
	if ((w = watch_set(c, rc ? UV_READABLE | UV_WRITABLE : UV_READABLE)) < 0)
		drop(c, -ECONNRESET, "watching PostgreSQL's socket", uv_strerror(w));
}

/* Send the requests waiting: each one's statements and a Sync, into libpq's buffer, then flush. */
static void pump(struct pgconn *c)
{
	struct request *r;

	if (c->st != UP || c->pending.head == NULL)
		return;
	while ((r = queue_pop(&c->pending)) != NULL) {
		queue_push(&c->inflight, r);
		for (int i = 0; i < r->n; i++) {
			const struct stmt *s = &r->stmts[i];
			if (!PQsendQueryParams(c->pg, s->sql, s->n_params, NULL, (const char *const *)s->params, NULL,
				NULL, 0)) {
				drop(c, -ECONNRESET, "sending to PostgreSQL", PQerrorMessage(c->pg));
				return;
			}
		}
		if (!PQpipelineSync(c->pg)) {
			drop(c, -ECONNRESET, "sending to PostgreSQL", PQerrorMessage(c->pg));
			return;
		}
	}
	flush(c);
}

static void send_listen(struct pgconn *c);

static void connected(struct pgconn *c)
{
	if (PQsetnonblocking(c->pg, 1) < 0 || !PQenterPipelineMode(c->pg)) {
		drop(c, -ECONNRESET, "setting the connection up", PQerrorMessage(c->pg));
		return;
	}
	c->st = UP;
	c->backend_pid = PQbackendPID(c->pg);
	c->backoff_ms = BACKOFF_MIN_MS;
	c->error[0] = '\0';
	uv_timer_stop(&c->retry);
	if (++c->connections > 1)
		log_info("pg: connected again to %s:%s", PQhost(c->pg), PQport(c->pg));
	if (c->channel)
		send_listen(c);
	pump(c);
	if (c->st == UP && c->pending.head == NULL && c->inflight.head == NULL)
		flush(c); /* watch for the server closing the connection */
}

static void connect_step(struct pgconn *c)
{
	int rc = 0;

	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		rc = watch_set(c, UV_READABLE);
		break;
	case PGRES_POLLING_WRITING:
		rc = watch_set(c, UV_WRITABLE);
		break;
	case PGRES_POLLING_OK:
		connected(c);
		return;
	default:
		drop(c, -ECONNRESET, "connecting to PostgreSQL", PQerrorMessage(c->pg));
		return;
	}
	if (rc < 0)
		drop(c, -ECONNRESET, "watching PostgreSQL's socket", uv_strerror(rc));
}

/* Take one result of the request at the head of the queue in flight; a Sync ends it. */
static void take_result(struct pgconn *c, PGresult *res)
{
	struct request *r = c->inflight.head;
	ExecStatusType st = PQresultStatus(res);

	switch (st) {
	case PGRES_PIPELINE_SYNC:
		PQclear(res);
		queue_pop(&c->inflight);
		request_end(r, 0, NULL);
		return;
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		if (r->got < r->n) {
			r->res[r->got++] = res;
			return;
		}
		break;
	case PGRES_PIPELINE_ABORTED:
		break;
	default:
		if (r->status == 0) {
			const char *msg = PQresultErrorMessage(res);
			size_t len = strlen(msg);
			r->status = pgconn_sqlstate_errno(PQresultErrorField(res, PG_DIAG_SQLSTATE));
			while (len > 0 && msg[len - 1] == '\n')
				len--;
			r->err = xstrndup(msg, len);
		}
		break;
	}
	if (r->got < r->n)
		r->res[r->got++] = NULL;
	PQclear(res);
}

/* Hand the notifications that came to the listener (PQnotifies parses what PQconsumeInput read). Whether the
 * connection is still there after (a listener may close it). */
static bool take_notifies(struct pgconn *c)
{
	PGnotify *n;

	while (!c->closing && c->st == UP && (n = PQnotifies(c->pg)) != NULL) {
		if (c->notify && c->channel && strcmp(n->relname, c->channel) == 0)
			c->notify(c->notify_ctx, n->extra ? n->extra : "");
		PQfreemem(n);
	}
	return !c->closing && c->st == UP;
}

/* Read what came, and hand each request its results once its Sync came. */
static void read_results(struct pgconn *c)
{
	int nulls = 0;

	if (!PQconsumeInput(c->pg)) {
		drop(c, -ECONNRESET, "reading from PostgreSQL", PQerrorMessage(c->pg));
		return;
	}
	if (!take_notifies(c))
		return;
	/* A NULL ends each statement's results; two in a row: nothing more is there. */
	while (c->inflight.head && !PQisBusy(c->pg) && nulls < 2) {
		PGresult *res = PQgetResult(c->pg);
		if (res == NULL) {
			nulls++;
			continue;
		}
		nulls = 0;
		take_result(c, res);
		if (c->closing || c->st != UP)
			return; /* a done callback closed it, or a request's end dropped it */
	}
	if (!take_notifies(c))
		return;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		drop(c, -ECONNRESET, "reading from PostgreSQL", PQerrorMessage(c->pg));
		return;
	}
	arm_deadline(c);
	flush(c);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct watch *w = p->data;
	struct pgconn *c = w->c;

	if (c->watch != w)
		return; /* replaced, closing */
	/* An error on the socket (libuv says UV_EBADF for POLLERR): libpq's next read or poll finds it, and says
	 * what it was. */
	if (status < 0)
		events = UV_READABLE;
	if (c->st == CONNECTING) {
		connect_step(c);
		return;
	}
	if (events & UV_READABLE)
		read_results(c);
	else if (c->st == UP && (events & UV_WRITABLE))
		flush(c);
}

static void on_kick(uv_timer_t *t)
{
	pump(t->data);
}

/* Take the requests of q whose deadline passed into out. */
static void take_expired(struct queue *q, uint64_t now, struct queue *out)
{
	struct queue keep = {0};
	struct request *r;

	while ((r = queue_pop(q)) != NULL)
		queue_push(r->deadline <= now ? out : &keep, r);
	*q = keep;
}

static void on_deadline(uv_timer_t *t)
{
	struct pgconn *c = t->data;
	uint64_t now = uv_now(c->loop);
	struct queue late = {0};
	struct request *r;

	for (r = c->inflight.head; r; r = r->next) {
		if (r->deadline <= now) {
			/* the server or the network is stuck: start over on a new connection */
			drop(c, -ECONNRESET, "PostgreSQL did not answer in time", NULL);
			if (c->closing)
				return;
			break;
		}
	}
	take_expired(&c->pending, now, &late);
	while ((r = queue_pop(&late)) != NULL) {
		char err[320];
		snprintf(err, sizeof(err), "no connection to PostgreSQL in time%s%s", c->error[0] ? ": " : "", c->error);
		request_end(r, -ENOTCONN, err);
		if (c->closing) {
			while ((r = queue_pop(&late)) != NULL)
				request_end(r, -ECANCELED, "the connection to PostgreSQL was closed");
			return;
		}
	}
	arm_deadline(c);
}

static void arm_deadline(struct pgconn *c)
{
	const struct queue *qs[] = {&c->inflight, &c->pending};
	uint64_t first = UINT64_MAX, now = uv_now(c->loop);

	for (size_t i = 0; i < 2; i++)
		for (const struct request *r = qs[i]->head; r; r = r->next)
			first = r->deadline < first ? r->deadline : first;
	if (first == UINT64_MAX)
		uv_timer_stop(&c->deadline);
	else
		uv_timer_start(&c->deadline, on_deadline, first > now ? first - now : 0, 0);
}

int pgconn_new(uv_loop_t *loop, const char *conninfo, struct pgconn **out, char *err, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	struct pgconn *c;

	if (opts == NULL) {
		snprintf(err, errlen, "pg: bad connection string: %s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return -EINVAL;
	}
	PQconninfoFree(opts);
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->conninfo = xstrdup(conninfo);
	c->backoff_ms = BACKOFF_MIN_MS;
	uv_timer_init(loop, &c->retry);
	uv_timer_init(loop, &c->deadline);
	uv_timer_init(loop, &c->kick);
	c->retry.data = c->deadline.data = c->kick.data = c;
	snprintf(c->error, sizeof(c->error), "connecting to PostgreSQL");
	connect_start(c);
	*out = c;
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct pgconn *c = h->data;

	if (--c->handles == 0) {
		free(c->channel);
		free(c->conninfo);
		free(c);
	}
}

void pgconn_close(struct pgconn *c)
{
	struct request *r;

	if (c == NULL || c->closing)
		return;
	c->closing = true;
	while ((r = queue_pop(&c->inflight)) != NULL || (r = queue_pop(&c->pending)) != NULL)
		request_end(r, -ECANCELED, "the connection to PostgreSQL was closed");
	watch_close(c);
	if (c->pg)
		PQfinish(c->pg);
	c->pg = NULL;
	c->handles = 3;
	uv_close((uv_handle_t *)&c->retry, on_timer_closed);
	uv_close((uv_handle_t *)&c->deadline, on_timer_closed);
	uv_close((uv_handle_t *)&c->kick, on_timer_closed);
}

int pgconn_send(struct pgconn *c, const struct pg_stmt *stmts, int n, uint64_t timeout_ms, pgconn_done_fn done,
    void *ctx)
{
	struct request *r;

	if (c->closing)
		return -ESHUTDOWN;
	if (n < 1)
		return -EINVAL;
	r = xcalloc(1, sizeof(*r));
	r->n = n;
	r->stmts = xcalloc((size_t)n, sizeof(*r->stmts));
	r->res = xcalloc((size_t)n, sizeof(*r->res));
	for (int i = 0; i < n; i++) {
		char **params = xcalloc((size_t)(stmts[i].n_params > 0 ? stmts[i].n_params : 1), sizeof(*params));
		for (int k = 0; k < stmts[i].n_params; k++)
			params[k] = stmts[i].params[k] ? xstrdup(stmts[i].params[k]) : NULL;
		r->stmts[i] = (struct stmt){.sql = xstrdup(stmts[i].sql), .n_params = stmts[i].n_params,
		    .params = params};
	}
	r->deadline = uv_now(c->loop) + (timeout_ms ? timeout_ms : PGCONN_TIMEOUT_DEFAULT_MS);
	r->done = done;
	r->ctx = ctx;
	queue_push(&c->pending, r);
	if (c->st == UP)
		uv_timer_start(&c->kick, on_kick, 0, 0);
	arm_deadline(c);
	return 0;
}

/* LISTEN is on: the listener learns that what came before may have been missed. */
static void on_listening(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct pgconn *c = ctx;

	(void)res;
	(void)n;
	if (status < 0) {
		if (status != -ECANCELED)
			log_warnx("pg: LISTEN %s: %s", c->channel, err ? err : strerror(-status));
		return; /* the connection broke (it is sent again on the next one), or it was closed */
	}
	if (c->notify && !c->closing)
		c->notify(c->notify_ctx, NULL);
}

/* Queue LISTEN (a request as any other: on a connection that broke, it is sent again on the next one). */
static void send_listen(struct pgconn *c)
{
	char sql[128];
	struct pg_stmt st = {.sql = sql};

	snprintf(sql, sizeof(sql), "LISTEN \"%s\"", c->channel);
	if (pgconn_send(c, &st, 1, 0, on_listening, c) < 0)
		log_warnx("pg: cannot LISTEN %s", c->channel);
}

int pgconn_listen(struct pgconn *c, const char *channel, pgconn_notify_fn fn, void *ctx)
{
	if (c->closing)
		return -ESHUTDOWN;
	if (c->channel || channel == NULL || *channel == '\0' || strlen(channel) > 63 || strchr(channel, '"'))
		return -EINVAL;
	c->channel = xstrdup(channel);
	c->notify = fn;
	c->notify_ctx = ctx;
	if (c->st == UP)
		send_listen(c);
	return 0;
}

bool pgconn_is_up(const struct pgconn *c)
{
	return c->st == UP;
}

int pgconn_backend_pid(const struct pgconn *c)
{
	return c->backend_pid;
}

uint64_t pgconn_connections(const struct pgconn *c)
{
	return c->connections;
}

int pgconn_sqlstate_errno(const char *sqlstate)
{
	if (sqlstate == NULL)
		return -EIO;
	if (strcmp(sqlstate, "23505") == 0)
		return -EEXIST;
	if (strncmp(sqlstate, "53", 2) == 0)
		return -ENOSPC; /* insufficient resources: disk full, out of memory, too many connections */
	if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
		return -EAGAIN;
	if (strcmp(sqlstate, "GNF01") == 0)
		return -ESTALE; /* pg_schema.h: the fence */
	if ((strncmp(sqlstate, "08", 2) == 0 && strcmp(sqlstate, "08P01") != 0) || strncmp(sqlstate, "57P", 3) == 0)
		return -ECONNRESET; /* connection exceptions, the server shutting down */
	return -EIO;
}
