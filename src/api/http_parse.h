/* HTTP/1.1 request parsing (RFC 9112), pure: no I/O, no allocation. A request head is found in the bytes read
 * so far (http_head_scan), then parsed whole in place (http_head_parse); a chunked body is decoded as it arrives
 * (http_chunked_decode). Every size is capped, and a request that breaks a rule or a cap gets the status to
 * answer (400, 413, 414, 417, 431, 501, 505) with a message that names the part at fault. */
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
	char authority[256];       /* storage for host when the target is in absolute form */
};

/* Progress of http_head_scan through bytes that arrive piece by piece; zero it for each new request. */
struct http_scan {
	size_t start;     /* where the request line starts (empty lines before it are skipped) */
	size_t pos;       /* where the next unscanned line starts */
	bool line_done;   /* the request line is complete */
};

/* Look for the end of a request head in data[0..len), resuming where the last call stopped. Returns 0 with
 * *head_len 0 when more bytes are needed, 0 with *head_len the head's length (through its blank line, empty
 * lines before it included) when it is complete, or 414/431 with a message when the request line or the head
 * is over its cap already (400: nothing but empty lines). */
int http_head_scan(struct http_scan *scan, const char *data, size_t len, size_t *head_len, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* Parse a complete head of len bytes (as found by http_head_scan), modifying it in place: the strings of h
 * point into it. Returns 0, or the status to answer with a message in err. */
int http_head_parse(char *head, size_t len, struct http_head *h, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The value of the first header field called name (case-insensitive), or NULL. */
const char *http_head_field(const struct http_head *h, const char *name);
/* The first query parameter called key: 1 with its value (NULL for a key without '='), or 0 when absent. */
int http_head_param(const struct http_head *h, const char *key, const char **value);

/* A chunked body being decoded; zero it for each request. */
struct http_chunked {
	int state;
	uint64_t left;     /* bytes left in the current chunk */
	size_t line;       /* bytes of the current size or trailer line */
	size_t trailers;   /* bytes of trailer fields so far */
	bool ext;          /* inside a chunk extension */
};

/* Decode chunked body bytes in[0..len) into body, whose limit is the body's cap: a chunk that would take the
 * body over it is refused as soon as its size line is in, before its data. Sets *used to the bytes consumed.
 * Returns 0 when more is needed, 1 when the body is complete (bytes after it are the next request's), or 400
 * (malformed) or 413 (over the cap) with a message. */
int http_chunked_decode(struct http_chunked *c, const char *in, size_t len, size_t *used, struct buf *body,
    char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
