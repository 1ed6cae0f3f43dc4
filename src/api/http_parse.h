/* HTTP/1.1 requests (RFC 9112) read with http-parser (nodejs/http-parser 2.9, Debian's libhttp-parser): the layer
 * between its callbacks and the server. No I/O. It fills a struct http_head (fields; the target as a decoded path
 * and query parameters), appends the body (Content-Length or chunked) to a capped buffer, and keeps what
 * http-parser leaves to its user: the caps on every part, the checks that a library built without
 * HTTP_PARSER_STRICT (as Debian's is) skips, and a status (400, 413, 414, 417, 431, 501, 505) with a message that
 * names the part at fault for every request it refuses. */
#ifndef GNOMON_API_HTTP_PARSE_H
#define GNOMON_API_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define HTTP_TARGET_MAX ((size_t)8 << 10)      /* the request target (path and query): more is 414 */
#define HTTP_LINE_MAX (HTTP_TARGET_MAX + 64)   /* the request line: method, target and version */
#define HTTP_HEAD_MAX ((size_t)32 << 10)       /* request line and header fields together: more is 431 */
#define HTTP_FIELDS_MAX 100                    /* header fields: more is 431 */
#define HTTP_PARAMS_MAX 100                    /* query parameters: more is 414 */
#define HTTP_CHUNK_LINE_MAX 1024               /* a chunk-size line with its extensions, a trailer field */
#define HTTP_TRAILERS_MAX ((size_t)8 << 10)    /* all trailer fields of a chunked body */

struct http_field {
	const char *name;
	const char *value; /* without leading and trailing whitespace */
};

struct http_param {
	const char *key;
	const char *value; /* decoded ('+' is a space); NULL for a key without '=' */
};

struct http_head {
	const char *method;
	const char *path;          /* percent-decoded, without the query */
	int minor;                 /* HTTP/1.<minor>: 0 or 1 (1.2 and later are read as 1.1) */
	struct http_field fields[HTTP_FIELDS_MAX];
	int nfields;
	struct http_param params[HTTP_PARAMS_MAX];
	int nparams;
	const char *host;          /* the Host field, or the authority of an absolute-form target; NULL: none */
	int64_t content_length;    /* -1: none */
	bool chunked;              /* Transfer-Encoding: chunked */
	bool expect_continue;      /* Expect: 100-continue */
	bool close;                /* the connection ends after the answer (Connection: close, or HTTP/1.0) */
};

struct http_reader;

enum { HTTP_READ_MORE, HTTP_READ_HEAD, HTTP_READ_DONE };

/* A reader for one request, whose head goes into h and whose body is appended to body (its limit is the cap on
 * bodies). Returns memory the caller frees with http_reader_free, after the last use of h: its strings live in
 * the reader. */
struct http_reader *http_reader_new(struct http_head *h, struct buf *body);
void http_reader_free(struct http_reader *r);

/* Read the next bytes of the request, data[0..len), and set *used to the bytes taken. Returns HTTP_READ_MORE when
 * all were taken and more are needed; HTTP_READ_HEAD when the head is complete (h is filled) and a body follows
 * (it starts at data[*used]: feed it on); HTTP_READ_DONE when the request is complete (bytes after *used are the
 * next request's); or, as soon as a fault or a passed cap is known, the status to answer with a message in err,
 * after which the reader takes nothing more. */
int http_reader_feed(struct http_reader *r, const char *data, size_t len, size_t *used, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The value of the first header field called name (case-insensitive), or NULL. */
const char *http_head_field(const struct http_head *h, const char *name);
/* The first query parameter called key: 1 with its value (NULL for a key without '='), or 0 when absent. */
int http_head_param(const struct http_head *h, const char *key, const char **value);

#endif
