#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/log.h"
#include "util/xmalloc.h"

#define WRITE_PIECE ((size_t)1 << 20) /* SSL_write takes an int */

struct tls {
	SSL *ssl;
	BIO *in, *out;   /* memory BIOs: ciphertext received, ciphertext to send */
	struct buf early; /* plaintext written before the handshake was done */
	bool established;
	bool failed;
};

static const struct tls_labels default_labels = {"certificate", "key", "CA file"};

/* The reason of OpenSSL's last error (and a certificate's, when one was refused), into err. */
static void ssl_error(const SSL *ssl, const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_peek_error(); /* the first: the cause, before what it made fail */
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (v != X509_V_OK)
		snprintf(err, errlen, "%s: certificate refused: %s", what, X509_verify_cert_error_string(v));
	else if (e && ERR_SYSTEM_ERROR(e))
		snprintf(err, errlen, "%s: %s", what, strerror(ERR_GET_REASON(e)));
	else
		snprintf(err, errlen, "%s: %s", what, reason ? reason : "failed");
	ERR_clear_error();
}

static SSL_CTX *ctx_new(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		ssl_error(NULL, "TLS", err, errlen);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* an idle connection keeps no record buffers */
	return ctx;
}

/* "label file" into what[len]. */
static const char *named(char *what, size_t len, const char *label, const char *file)
{
	snprintf(what, len, "%s %s", label, file);
	return what;
}

/* Load a certificate (with its chain) and its key into ctx; 0 or -EINVAL with err naming the file at fault. */
static int load_pair(SSL_CTX *ctx, const char *cert, const char *key, const struct tls_labels *l, char *err,
    size_t errlen)
{
	char what[512];

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_error(NULL, named(what, sizeof(what), l->cert, cert), err, errlen);
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error(NULL, named(what, sizeof(what), l->key, key), err, errlen);
		return -EINVAL;
	}
	return 0;
}

int tls_ctx_server_new(const char *cert, const char *key, const char *client_ca, const struct tls_labels *labels,
    struct tls_ctx **out, char *err, size_t errlen)
{
	const struct tls_labels *l = labels ? labels : &default_labels;
	SSL_CTX *ctx = ctx_new(TLS_server_method(), err, errlen);
	char what[512];

	if (ctx == NULL)
		return -EINVAL;
	if (load_pair(ctx, cert, key, l, err, errlen) < 0)
		goto fail;
	if (client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
		if (names == NULL || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			ssl_error(NULL, named(what, sizeof(what), l->ca, client_ca), err, errlen);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		/* asked for, not required: the routes that need one check tls_peer_verified() */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	*out = (struct tls_ctx *)ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -EINVAL;
}

int tls_ctx_client_new(const char *ca, const char *cert, const char *key, const struct tls_labels *labels,
    struct tls_ctx **out, char *err, size_t errlen)
{
	const struct tls_labels *l = labels ? labels : &default_labels;
	SSL_CTX *ctx = ctx_new(TLS_client_method(), err, errlen);
	char what[512];

	if (ctx == NULL)
		return -EINVAL;
	if ((ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		ssl_error(NULL, ca ? named(what, sizeof(what), l->ca, ca) : "the system's CA certificates", err, errlen);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((cert != NULL) != (key != NULL)) {
		snprintf(err, errlen, "%s and %s: a client certificate needs both", l->cert, l->key);
		goto fail;
	}
	if (cert && load_pair(ctx, cert, key, l, err, errlen) < 0)
		goto fail;
	*out = (struct tls_ctx *)ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -EINVAL;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	SSL_CTX_free((SSL_CTX *)ctx);
}

/* A client's checks of the server's name: an address against the certificate's IP entries, a name against its
 * DNS ones (and sent as SNI). */
static void expect_host(SSL *ssl, const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
		return;
	}
	SSL_set_tlsext_host_name(ssl, host);
	SSL_set1_host(ssl, host);
}

struct tls *tls_new(struct tls_ctx *ctx, const char *host)
{
	struct tls *t = xcalloc(1, sizeof(*t));

	t->ssl = SSL_new((SSL_CTX *)ctx);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (t->ssl == NULL || t->in == NULL || t->out == NULL)
		fatalx("TLS: out of memory");
	BIO_set_mem_eof_return(t->in, -1); /* no bytes yet is not the end */
	SSL_set_bio(t->ssl, t->in, t->out);
	buf_init(&t->early, 0);
	if (host == NULL) {
		SSL_set_accept_state(t->ssl);
	} else {
		SSL_set_connect_state(t->ssl);
		expect_host(t->ssl, host);
		(void)SSL_do_handshake(t->ssl); /* the ClientHello, for tls_take() */
		ERR_clear_error();
	}
	return t;
}

void tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl); /* and its BIOs */
	buf_free(&t->early);
	free(t);
}

/* Encrypt data into the outgoing BIO. */
static int encrypt(struct tls *t, const char *data, size_t len, char *err, size_t errlen)
{
	while (len > 0) {
		size_t n = len < WRITE_PIECE ? len : WRITE_PIECE;
		ERR_clear_error();
		if (SSL_write(t->ssl, data, (int)n) <= 0) {
			t->failed = true;
			ssl_error(t->ssl, "TLS write", err, errlen);
			return -EPROTO;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* Go on with the handshake; 0 (done or waiting for the peer), TLS_PLAIN_HTTP or -EPROTO with err. */
static int handshake(struct tls *t, char *err, size_t errlen)
{
	int rc;

	ERR_clear_error();
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1) {
		t->established = true;
		if (t->early.len) {
			rc = encrypt(t, t->early.data, t->early.len, err, errlen);
			buf_free(&t->early);
			return rc;
		}
		return 0;
	}
	if (SSL_get_error(t->ssl, rc) == SSL_ERROR_WANT_READ)
		return 0;
	t->failed = true;
	if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_HTTP_REQUEST) {
		ERR_clear_error();
		return TLS_PLAIN_HTTP;
	}
	ssl_error(t->ssl, "TLS handshake", err, errlen);
	return -EPROTO;
}

int tls_feed(struct tls *t, const char *data, size_t len, struct buf *plain, char *err, size_t errlen)
{
	char piece[16384];
	int rc;

	if (t->failed) {
		snprintf(err, errlen, "TLS: the connection failed before");
		return -EPROTO;
	}
	if (len > INT_MAX || BIO_write(t->in, data, (int)len) != (int)len)
		fatalx("TLS: out of memory");
	if (!t->established && ((rc = handshake(t, err, errlen)) != 0 || !t->established))
		return rc;
	for (;;) {
		ERR_clear_error();
		rc = SSL_read(t->ssl, piece, sizeof(piece));
		if (rc > 0) {
			if (buf_append(plain, piece, (size_t)rc) < 0)
				return -E2BIG;
			continue;
		}
		switch (SSL_get_error(t->ssl, rc)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_ZERO_RETURN: /* close_notify: the TCP end follows */
			return 0;
		default:
			t->failed = true;
			ssl_error(t->ssl, "TLS read", err, errlen);
			return -EPROTO;
		}
	}
}

int tls_write(struct tls *t, const char *data, size_t len, char *err, size_t errlen)
{
	if (t->failed) {
		snprintf(err, errlen, "TLS: the connection failed before");
		return -EPROTO;
	}
	if (!t->established) {
		if (buf_append(&t->early, data, len) < 0)
			fatalx("TLS: out of memory");
		return 0;
	}
	return encrypt(t, data, len, err, errlen);
}

void tls_take(struct tls *t, struct buf *out)
{
	char *p;
	long n = BIO_get_mem_data(t->out, &p);

	if (n <= 0)
		return;
	if (buf_append(out, p, (size_t)n) < 0)
		fatalx("TLS: out of memory");
	(void)BIO_reset(t->out);
}

void tls_close_notify(struct tls *t)
{
	if (t->established && !t->failed) {
		(void)SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
}

bool tls_established(const struct tls *t)
{
	return t->established;
}

bool tls_peer_verified(const struct tls *t)
{
	return t->established && SSL_get0_peer_certificate(t->ssl) != NULL &&
	    SSL_get_verify_result(t->ssl) == X509_V_OK;
}
