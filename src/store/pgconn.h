/* One PostgreSQL connection on the libuv loop, for the PostgreSQL backends of the state and the history (HA:
 * DESIGN.md). libpq's asynchronous API is driven by the loop: the connection is made with PQconnectStart and
 * PQconnectPoll, its socket watched with a uv_poll (replaced when libpq changes sockets while it connects), and
 * requests are sent in pipeline mode on a nonblocking connection, so the loop never waits for the network.
 *
 * A request is a short list of statements (each one SQL command with $1.. parameters as text) sent as one pipeline
 * and closed by a Sync: the server runs them in one implicit transaction, which commits at the Sync when all of
 * them succeeded and leaves nothing behind when one failed (the rest are skipped). So a request is atomic and
 * takes one round trip; requests are sent, and complete, in the order they were made, several in flight at once.
 *
 * When the connection breaks (the server restarted, the network failed, a request passed its deadline), the
 * requests in flight fail (-ECONNRESET, or -ETIMEDOUT for the one whose deadline passed): whether such a request
 * committed is unknown to the client. The requests not sent yet wait, and the connection is made again on its
 * own, with a backoff (100 ms doubling to 5 s), so they go once it is back; one whose deadline passes first fails
 * with -ENOTCONN (it was never sent: the server did not see it). A host given by name is resolved by libpq
 * inside PQconnectStart, which blocks: give an address (host=127.0.0.1, or hostaddr) or a unix socket directory
 * in HA configurations.
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_STORE_PGCONN_H
#define GNOMON_STORE_PGCONN_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

#define PGCONN_TIMEOUT_DEFAULT_MS 10000 /* a request, from when it is made to its last result */

struct pgconn;

/* One statement of a request: one SQL command, its parameters $1..$n_params as text (NULL: SQL NULL). */
struct pg_stmt {
	const char *sql;
	int n_params;
	const char *const *params;
};

/* A request ended, on the loop thread, exactly once, never from inside pgconn_send: status 0 with the n results
 * of its statements in order (each PGRES_COMMAND_OK or PGRES_TUPLES_OK; borrowed for the call), or a negative
 * errno with res NULL and err saying why (the server's message when it answered with an error): -EEXIST (a unique
 * key), -ENOSPC (the server's disk is full, or another resource ran out), -ESTALE (the gnomon fence refused the
 * transaction: a newer leader's epoch, pg_schema.h), -EAGAIN (a serialization failure or deadlock: try again),
 * -ECONNRESET (the connection broke with the request in flight: its outcome is unknown), -ETIMEDOUT (its deadline
 * passed in flight: its outcome is unknown too), -ENOTCONN (its deadline passed before there was a connection to
 * send it on: never sent), -ECANCELED (the connection was closed), -EIO (anything else). */
typedef void (*pgconn_done_fn)(void *ctx, int status, PGresult *const *res, int n, const char *err);

/* A connection to conninfo (a libpq connection string or postgresql:// URL, copied) on loop, made in the
 * background: requests may be sent at once. Unless conninfo sets them, TCP keepalives and tcp_user_timeout=3000
 * are on: a connection whose packets are dropped ends within about 3 s (a request in flight then ends with
 * -ECONNRESET), not at the request's deadline. Returns 0, or -EINVAL with a message in err when libpq refuses the
 * connection string. */
int pgconn_new(uv_loop_t *loop, const char *conninfo, struct pgconn **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Close: every request not ended yet ends with -ECANCELED (from inside this call); the connection is freed once
 * its loop handles closed (keep running the loop). NULL is fine. */
void pgconn_close(struct pgconn *c);

/* Send the n statements (1 <= n; copied) as one atomic request that must end within timeout_ms (0:
 * PGCONN_TIMEOUT_DEFAULT_MS); done(ctx, ...) gets its end. Returns 0, -EINVAL (n < 1), or -ESHUTDOWN (closing);
 * done is not called then. */
int pgconn_send(struct pgconn *c, const struct pg_stmt *stmts, int n, uint64_t timeout_ms, pgconn_done_fn done,
    void *ctx) __attribute__((warn_unused_result));

/* A notification on the channel listened to (its payload, borrowed for the call), or payload NULL: LISTEN is on
 * on a new connection, and what was notified before it may have been missed (the owner reads everything again,
 * after this call: its reads go after the LISTEN). Called on the loop, never from inside a pgconn call. */
typedef void (*pgconn_notify_fn)(void *ctx, const char *payload);
/* LISTEN on channel (a plain identifier, copied) on this connection and on every one made after it (a reconnect
 * sends LISTEN again first thing, then calls fn(ctx, NULL)); fn(ctx, payload) gets each notification of it.
 * NOTIFY is transactional: a notification comes once its transaction committed, in commit order. One channel a
 * connection. Returns 0, -EINVAL (a second channel, a bad name), or -ESHUTDOWN (closing). */
int pgconn_listen(struct pgconn *c, const char *channel, pgconn_notify_fn fn, void *ctx)
    __attribute__((warn_unused_result));

/* Whether the connection is up now (a request sent now goes at once). */
bool pgconn_is_up(const struct pgconn *c);
/* The process id of the server process that serves the connection, or served the last one while none is up (0
 * before the first): what a client terminates (pg_terminate_backend) so that a request whose outcome is unknown
 * cannot commit later, when nobody expects it any more. */
int pgconn_backend_pid(const struct pgconn *c);
/* How many times a connection was made (1 after the first): tests watch reconnections with it. */
uint64_t pgconn_connections(const struct pgconn *c);

/* The negative errno of a server error's SQLSTATE (see pgconn_done_fn); NULL: -EIO. */
int pgconn_sqlstate_errno(const char *sqlstate);

#endif
