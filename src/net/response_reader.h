/* HTTP/1.1 responses read with http-parser (Debian's libhttp-parser, in its HTTP_RESPONSE mode): the layer
 * between its callbacks and net_uv.c, the HTTP client without libcurl. No I/O. It keeps the status, the header
 * fields and the body (Content-Length, chunked, or up to the connection's end), each under a hard cap, skips
 * interim (1xx) responses, and says whether the connection may carry the next request. */
#ifndef GNOMON_NET_RESPONSE_READER_H
#define GNOMON_NET_RESPONSE_READER_H

#include <stdbool.h>
#include <stddef.h>

#define RESPONSE_HEAD_MAX ((size_t)32 << 10) /* the status line's reason and the header fields together */
#define RESPONSE_FIELDS_MAX 100               /* header fields */

struct response_reader;

enum { RESPONSE_MORE, RESPONSE_DONE };

/* A reader for the response to one request: body_max caps its body (more is -E2BIG); head: the request was a
 * HEAD, so no body follows whatever the fields say. Returns memory the caller frees with
 * response_reader_free(). */
struct response_reader *response_reader_new(size_t body_max, bool head);
void response_reader_free(struct response_reader *r);

/* Read the next bytes of the response, data[0..len), and set *used to the bytes taken. Returns RESPONSE_MORE
 * when all were taken and more are needed; RESPONSE_DONE when the response is complete (bytes after *used are
 * not part of it); or, as soon as it is known, -E2BIG (the body passes its cap) or -EIO (a malformed response, a
 * head over its caps), with a message in err, after which the reader takes nothing more. */
int response_reader_feed(struct response_reader *r, const char *data, size_t len, size_t *used, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* The connection ended: RESPONSE_DONE when that completes the response (a body that runs to the end of the
 * connection), or -ECONNRESET with a message in err. */
int response_reader_eof(struct response_reader *r, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Has any byte of the response come? */
bool response_reader_started(const struct response_reader *r);
/* Once done: may the connection carry another request (HTTP/1.1 without "Connection: close", a response
 * framed by its length)? */
bool response_reader_keep_alive(const struct response_reader *r);
/* Once done: the status code and the body (NUL-terminated; "" when there is none), valid until the reader is
 * freed. */
long response_reader_status(const struct response_reader *r);
const char *response_reader_body(const struct response_reader *r, size_t *len);
/* The value of the last header field called name (case-insensitive), without surrounding white space, or
 * NULL; valid until the reader is freed. */
const char *response_reader_header(const struct response_reader *r, const char *name);

#endif
