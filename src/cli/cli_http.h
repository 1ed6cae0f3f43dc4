/* A tiny blocking HTTP client for the CLI (libcurl easy interface): one request at a time against one server,
 * reusing the connection between requests; an answer's body is read whole or streamed to a callback. */
#ifndef GNOMON_CLI_CLI_HTTP_H
#define GNOMON_CLI_CLI_HTTP_H

#include <stddef.h>

/* Largest response body the client accepts. */
#define CLI_HTTP_MAX_BODY ((size_t)256 << 20)
/* How much of a failed (non-2xx) answer cli_http_stream keeps, for its message. */
#define CLI_HTTP_MAX_ERROR_BODY ((size_t)64 << 10)

/* cli_http_stream flags. */
#define CLI_HTTP_NO_STALL_TIMEOUT 0x1u /* the answer may pause for any time (a followed log) */

struct cli_http;

struct cli_http_response {
	long status;        /* HTTP status code */
	char *body;         /* NUL-terminated, never NULL after a successful request */
	size_t len;
	char *content_type; /* NULL when the server sent none */
};

/* Create a client for a base URL such as "http://127.0.0.1:4400". Free with cli_http_free(). */
struct cli_http *cli_http_new(const char *base);
void cli_http_free(struct cli_http *h);
const char *cli_http_base(const struct cli_http *h);
/* Verify https:// servers with the CAs of this PEM file (copied; NULL: the system's). */
void cli_http_set_ca(struct cli_http *h, const char *ca_file);
/* Send Authorization: Bearer token with every request from now on (NULL or "": none). */
void cli_http_set_token(struct cli_http *h, const char *token);

/* Send METHOD base+path with an optional JSON body (NULL for none). Returns 0 when an answer arrived, whatever
 * its status, filling resp (free it with cli_http_response_free); on a transport failure returns a negative
 * errno-style code with a one-line message in err, e.g. "cannot reach http://127.0.0.1:4400: Connection
 * refused", and leaves resp empty. */
int cli_http_request(struct cli_http *h, const char *method, const char *path, const char *body,
    struct cli_http_response *resp, char *err, size_t errlen) __attribute__((warn_unused_result));
void cli_http_response_free(struct cli_http_response *resp);

/* Receives the body of a 2xx answer as it arrives. Returns 0, or -1 to abort the transfer. */
typedef int (*cli_http_write_fn)(const char *data, size_t len, void *arg);

/* Like cli_http_request without a request body, but the body of a 2xx answer goes to writer as it arrives and
 * resp->body stays empty; the body of any other answer is kept in resp->body up to CLI_HTTP_MAX_ERROR_BODY bytes
 * (the rest is dropped), for cli_http_error_text. Returns 0 when the whole answer arrived, -ECANCELED when writer
 * aborted the transfer, else as cli_http_request (same setup, same messages in err). */
int cli_http_stream(struct cli_http *h, const char *method, const char *path, unsigned flags,
    cli_http_write_fn writer, void *arg, struct cli_http_response *resp, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* One line describing a failed (non-2xx) answer: the "message" of a JSON error body {"status", "message"},
 * else "HTTP <code>: <first line of the body>", else "HTTP <code>". Control characters are replaced. */
void cli_http_error_text(long status, const char *body, size_t len, char *out, size_t outlen);

#endif
