#include "cli/cli_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#ifndef GNOMON_VERSION
#define GNOMON_VERSION "dev"
#endif

#define CONNECT_TIMEOUT_S 10L
#define STALL_TIMEOUT_S 60L
#define ERROR_LINE_MAX 300

struct cli_http {
	CURL *curl; /* created on the first request, reused so the connection is kept */
	char *base;
	char *ca_file; /* --tls-ca, or NULL */
	char *auth; /* "Authorization: Bearer ...", or NULL */
};

/* Where the write callbacks put the body: all of it into body, or, when streaming, a 2xx body to writer and any
 * other into body (capped, the rest dropped). toobig tells a cap hit from other write errors. */
struct sink {
	CURL *curl;
	struct buf body;
	bool toobig;
	cli_http_write_fn writer; /* NULL: read the body whole */
	void *arg;
	long status;              /* when streaming: the answer's status, known at its first body bytes */
	bool aborted;             /* writer refused data */
};

struct cli_http *cli_http_new(const char *base)
{
	struct cli_http *h = xcalloc(1, sizeof(*h));

	h->base = xstrdup(base);
	return h;
}

void cli_http_free(struct cli_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->base);
	free(h->ca_file);
	free(h->auth);
	free(h);
}

void cli_http_set_token(struct cli_http *h, const char *token)
{
	free(h->auth);
	h->auth = token && *token ? xasprintf("Authorization: Bearer %s", token) : NULL;
}

const char *cli_http_base(const struct cli_http *h)
{
	return h->base;
}

void cli_http_set_ca(struct cli_http *h, const char *ca_file)
{
	free(h->ca_file);
	h->ca_file = ca_file ? xstrdup(ca_file) : NULL;
}

void cli_http_response_free(struct cli_http_response *resp)
{
	free(resp->body);
	free(resp->content_type);
	memset(resp, 0, sizeof(*resp));
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *sink = userdata;
	size_t n = size * nmemb;

	if (buf_append(&sink->body, data, n) < 0) {
		sink->toobig = true;
		return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

/* The write callback when streaming: a 2xx body goes to the caller's writer, any other is kept for its message. */
static size_t on_stream(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *sink = userdata;
	size_t n = size * nmemb, room;

	if (sink->status == 0 && curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &sink->status) != CURLE_OK)
		sink->status = 500;
	if (sink->status >= 200 && sink->status < 300) {
		if (sink->writer(data, n, sink->arg) < 0) {
			sink->aborted = true;
			return 0;
		}
		return n;
	}
	room = CLI_HTTP_MAX_ERROR_BODY - sink->body.len;
	if (buf_append(&sink->body, data, n < room ? n : room) < 0)
		return 0;
	return n;
}

#define SETOPT(c, cc, opt, val)                                                                                    \
	do {                                                                                                       \
		if ((cc) == CURLE_OK)                                                                              \
			(cc) = curl_easy_setopt((c), (opt), (val));                                                \
	} while (0)

/* Set the options of one request on a freshly reset handle. */
static CURLcode setup(const struct cli_http *h, const char *url, const char *method, const char *body,
    unsigned flags, struct curl_slist *headers, struct sink *sink, char *errbuf)
{
	CURL *c = h->curl;
	CURLcode cc = CURLE_OK;

	SETOPT(c, cc, CURLOPT_URL, url);
	if (h->ca_file) /* the peer's certificate and name are verified (libcurl's default) */
		SETOPT(c, cc, CURLOPT_CAINFO, h->ca_file);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(c, cc, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(c, cc, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(c, cc, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, cc, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	if (!(flags & CLI_HTTP_NO_STALL_TIMEOUT)) {
		SETOPT(c, cc, CURLOPT_LOW_SPEED_LIMIT, 1L);
		SETOPT(c, cc, CURLOPT_LOW_SPEED_TIME, STALL_TIMEOUT_S);
	}
	SETOPT(c, cc, CURLOPT_USERAGENT, "gnomon-cli/" GNOMON_VERSION);
	SETOPT(c, cc, CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(c, cc, CURLOPT_HTTPHEADER, headers);
	SETOPT(c, cc, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(c, cc, CURLOPT_WRITEFUNCTION, sink->writer ? on_stream : on_body);
	SETOPT(c, cc, CURLOPT_WRITEDATA, sink);
	if (strcmp(method, "GET") == 0) {
		SETOPT(c, cc, CURLOPT_HTTPGET, 1L);
		return cc;
	}
	SETOPT(c, cc, CURLOPT_CUSTOMREQUEST, method);
	if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		/* POST and PUT always carry a body, if only an empty one, so the server sees a Content-Length. */
		SETOPT(c, cc, CURLOPT_POSTFIELDS, body ? body : "");
		SETOPT(c, cc, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
	}
	return cc;
}

/* Whether a failure happened before any byte could be exchanged with the server. */
static bool is_connect_failure(CURL *c, CURLcode cc)
{
	curl_off_t connect_us = 0;

	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return true;
	case CURLE_OPERATION_TIMEDOUT:
		return curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us) != CURLE_OK || connect_us == 0;
	default:
		return false;
	}
}

/* Describe a failed transfer in one line. */
static void transport_error(struct cli_http *h, CURLcode cc, const char *method, const char *url,
    const struct sink *sink, const char *errbuf, char *err, size_t errlen)
{
	const char *reason = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	long os_errno = 0;

	if (sink->toobig) {
		snprintf(err, errlen, "%s %s: response larger than %zu MiB", method, url, CLI_HTTP_MAX_BODY >> 20);
		return;
	}
	if (cc == CURLE_COULDNT_CONNECT && curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
	    os_errno != 0)
		reason = strerror((int)os_errno);
	if (is_connect_failure(h->curl, cc))
		snprintf(err, errlen, "cannot reach %s: %s", h->base, reason);
	else
		snprintf(err, errlen, "%s %s: %s", method, url, reason);
}

/* Copy the answer's status, body and content type into resp. */
static void fill_response(CURL *c, struct sink *sink, struct cli_http_response *resp)
{
	const char *ctype = NULL;

	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK)
		resp->status = 0;
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
		resp->content_type = xstrdup(ctype);
	resp->body = buf_steal(&sink->body, &resp->len);
}

/* The request headers; returns NULL when out of memory. */
static struct curl_slist *build_headers(bool json_body, const char *auth)
{
	const char *lines[] = {"Accept: application/json", "Expect:", auth, "Content-Type: application/json"};
	size_t n = 2;

	if (auth)
		n++;
	else
		lines[2] = lines[3];
	if (json_body)
		n++;
	struct curl_slist *headers = NULL, *tmp;

	for (size_t i = 0; i < n; i++) {
		if (!(tmp = curl_slist_append(headers, lines[i]))) {
			curl_slist_free_all(headers);
			return NULL;
		}
		headers = tmp;
	}
	return headers;
}

/* Send one request with the body going where sink says. Returns 0 with resp filled, or a negative errno-style
 * code with a one-line message in err. */
static int perform(struct cli_http *h, const char *method, const char *path, const char *body, unsigned flags,
    struct sink *sink, struct cli_http_response *resp, char *err, size_t errlen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	char *url = cli_url_join(h->base, path);
	CURLcode cc;
	int rc = -EIO;

	memset(resp, 0, sizeof(*resp));
	if (!h->curl && !(h->curl = curl_easy_init())) {
		snprintf(err, errlen, "cannot initialise libcurl");
		rc = -ENOMEM;
		goto out;
	}
	curl_easy_reset(h->curl);
	sink->curl = h->curl;
	if (!(headers = build_headers(body != NULL, h->auth))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	cc = setup(h, url, method, body, flags, headers, sink, errbuf);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(h->curl);
	if (cc != CURLE_OK) {
		transport_error(h, cc, method, url, sink, errbuf, err, errlen);
		if (sink->aborted)
			rc = -ECANCELED;
		goto out;
	}
	fill_response(h->curl, sink, resp);
	rc = 0;
out:
	curl_slist_free_all(headers);
	free(url);
	return rc;
}

int cli_http_request(struct cli_http *h, const char *method, const char *path, const char *body,
    struct cli_http_response *resp, char *err, size_t errlen)
{
	struct sink sink = {.writer = NULL};
	int rc;

	buf_init(&sink.body, CLI_HTTP_MAX_BODY);
	rc = perform(h, method, path, body, 0, &sink, resp, err, errlen);
	buf_free(&sink.body);
	return rc;
}

int cli_http_stream(struct cli_http *h, const char *method, const char *path, unsigned flags,
    cli_http_write_fn writer, void *arg, struct cli_http_response *resp, char *err, size_t errlen)
{
	struct sink sink = {.writer = writer, .arg = arg};
	int rc;

	buf_init(&sink.body, CLI_HTTP_MAX_ERROR_BODY);
	rc = perform(h, method, path, NULL, flags, &sink, resp, err, errlen);
	buf_free(&sink.body);
	return rc;
}

/* Length of s[0..n) without a trailing incomplete UTF-8 sequence. */
static size_t utf8_complete(const char *s, size_t n)
{
	size_t start = n, need;
	unsigned char lead;

	while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80 && n - start < 3)
		start--;
	if (start == 0)
		return n;
	lead = (unsigned char)s[start - 1];
	if (lead < 0xc0)
		return n;
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	return n - (start - 1) < need ? start - 1 : n;
}

/* Copy the first non-blank line of src into out, replacing control characters and capping its length. */
static void first_line(const char *src, size_t len, char *out, size_t outlen)
{
	size_t i = 0, n = 0, cap = outlen ? outlen - 1 : 0;

	if (cap > ERROR_LINE_MAX)
		cap = ERROR_LINE_MAX;
	while (i < len && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n'))
		i++;
	for (; i < len && n < cap && src[i] != '\n' && src[i] != '\r'; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\t')
			out[n++] = ' ';
		else if (c < 0x20 || c == 0x7f)
			out[n++] = '?';
		else
			out[n++] = src[i];
	}
	/* Do not end in the middle of a UTF-8 sequence, or in blanks. */
	n = utf8_complete(out, n);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	if (outlen)
		out[n] = '\0';
}

void cli_http_error_text(long status, const char *body, size_t len, char *out, size_t outlen)
{
	char line[ERROR_LINE_MAX + 1];
	json_t *root = len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(root, "message"));
	const char *status_text = json_string_value(json_object_get(root, "status"));

	if (msg && *msg) {
		first_line(msg, strlen(msg), out, outlen);
		if (outlen && *out)
			goto out;
	}
	if (status_text && *status_text)
		first_line(status_text, strlen(status_text), line, sizeof(line));
	else
		first_line(body ? body : "", body ? len : 0, line, sizeof(line));
	if (line[0])
		snprintf(out, outlen, "HTTP %ld: %s", status, line);
	else
		snprintf(out, outlen, "HTTP %ld", status);
out:
	json_decref(root);
}
