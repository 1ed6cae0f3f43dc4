/* The HTTP server's TLS transport (http_internal.h): between a connection's TCP stream and its plaintext, net/tls.h
 * over memory BIOs. What the client sends is decrypted into the connection's input, what the server answers is
 * encrypted on its way to uv_write; http.c does the rest as for plain HTTP. */
#include "api/http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

static const struct tls_labels flags = {"--tls-cert", "--tls-key", "--tls-client-ca"};

int http_tls_configure(struct http_server *srv, const struct http_server_options *opt, char *err, size_t errlen)
{
	if (opt->tls_cert == NULL || !opt->tls_cert[0])
		return 0;
	srv->tls_cert = xstrdup(opt->tls_cert);
	srv->tls_key = xstrdup(opt->tls_key ? opt->tls_key : "");
	srv->tls_client_ca = opt->tls_client_ca && opt->tls_client_ca[0] ? xstrdup(opt->tls_client_ca) : NULL;
	return tls_ctx_server_new(srv->tls_cert, srv->tls_key, srv->tls_client_ca, &flags, &srv->tls, err, errlen);
}

void http_tls_release(struct http_server *srv)
{
	tls_ctx_free(srv->tls);
	free(srv->tls_cert);
	free(srv->tls_key);
	free(srv->tls_client_ca);
}

int http_server_reload_tls(struct http_server *srv, char *err, size_t errlen)
{
	struct tls_ctx *ctx;
	int rc;

	if (srv->tls_cert == NULL)
		return 0;
	rc = tls_ctx_server_new(srv->tls_cert, srv->tls_key, srv->tls_client_ca, &flags, &ctx, err, errlen);
	if (rc < 0)
		return rc;
	tls_ctx_free(srv->tls); /* the connections made from it keep it until they end */
	srv->tls = ctx;
	return 0;
}

bool http_server_tls(const struct http_server *srv)
{
	return srv->tls != NULL;
}

void http_tls_accept(struct http_conn *c)
{
	c->tls = tls_new(c->srv->tls, NULL);
	http_conn_arm(c, http_conn_on_idle, HTTP_TLS_HANDSHAKE_MS);
}

/* Send what the TLS engine has to say (a handshake's records, an alert, close_notify). */
static void flush(struct http_conn *c)
{
	struct buf out;
	char *data;
	size_t len;

	buf_init(&out, 0);
	tls_take(c->tls, &out);
	if (out.len == 0)
		return;
	data = buf_steal(&out, &len);
	http_conn_send(c, data, len, 0);
}

static void log_failure(struct http_conn *c, const char *err)
{
	char peer[HTTP_PEER_MAX];

	http_conn_peer(c, peer, sizeof(peer));
	log_info("http: %s: %s", peer, err);
}

int http_tls_input(struct http_conn *c, const char *data, size_t len)
{
	struct buf in = {.data = c->in, .len = c->len, .cap = c->cap};
	bool was = tls_established(c->tls);
	char err[256];
	int rc = tls_feed(c->tls, data, len, &in, err, sizeof(err));

	c->in = in.data;
	c->len = in.len;
	c->cap = in.cap;
	flush(c);
	if (rc == TLS_PLAIN_HTTP) {
		/* answered in plain HTTP, which the client can read: 400, then the connection ends */
		tls_free(c->tls);
		c->tls = NULL;
		return HTTP_TLS_PLAIN;
	}
	if (rc < 0) {
		log_failure(c, rc == -E2BIG ? "TLS: too much input" : err);
		return rc;
	}
	if (!tls_established(c->tls))
		return HTTP_TLS_HANDSHAKE;
	if (!was)
		http_conn_arm_idle(c);
	return 0;
}

int http_tls_encrypt(struct http_conn *c, const char *a, size_t alen, const char *b, size_t blen, char **out,
    size_t *outlen)
{
	struct buf cipher;
	char err[256];

	if ((alen && tls_write(c->tls, a, alen, err, sizeof(err)) < 0) ||
	    (blen && tls_write(c->tls, b, blen, err, sizeof(err)) < 0)) {
		log_failure(c, err);
		return -EPROTO;
	}
	buf_init(&cipher, 0);
	tls_take(c->tls, &cipher);
	*out = buf_steal(&cipher, outlen);
	return 0;
}

void http_tls_close_notify(struct http_conn *c)
{
	tls_close_notify(c->tls);
	flush(c);
}

bool http_request_tls(const struct http_request *req)
{
	return req->conn && req->conn->tls != NULL;
}

bool http_request_tls_client(const struct http_request *req)
{
	return http_request_tls(req) && tls_peer_verified(req->conn->tls);
}
