/* TLS over memory BIOs: OpenSSL's protocol engine without its sockets, for connections that libuv reads and writes
 * (the HTTP server's, api/http_tls.c; gnomon-agent's client, net_uv.c). Received ciphertext goes in with
 * tls_feed(), the ciphertext to send comes out with tls_take(); nothing here does I/O or blocks, so it all runs on
 * the loop thread. TLS 1.2 at least; peers' certificates are verified (a client's host name as well). */
#ifndef GNOMON_NET_TLS_H
#define GNOMON_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct tls_ctx; /* certificates and settings shared by connections (OpenSSL's SSL_CTX, reference-counted) */
struct tls;     /* one connection */

/* What the messages call the files (the flags that name them: "--tls-cert"); NULL: "certificate", "key", "CA file". */
struct tls_labels {
	const char *cert, *key, *ca;
};

/* What a server presents: cert and key (PEM files, the chain after the certificate); client_ca, when not NULL, a
 * PEM file of the CAs whose client certificates are asked for and verified (a client may present none:
 * tls_peer_verified() says whether one did). 0, or -EINVAL with a message in err
 * ("--tls-key /etc/gnomon/key.pem: key values mismatch"). */
int tls_ctx_server_new(const char *cert, const char *key, const char *client_ca, const struct tls_labels *labels,
    struct tls_ctx **out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* What a client trusts: ca, a PEM file of CAs (NULL: the system's); cert and key (both or neither) a client
 * certificate. 0, or -EINVAL with a message in err. */
int tls_ctx_client_new(const char *ca, const char *cert, const char *key, const struct tls_labels *labels,
    struct tls_ctx **out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Drop this reference; connections made from it keep theirs. NULL is fine. */
void tls_ctx_free(struct tls_ctx *ctx);

/* A server's connection (host NULL), or a client's to host (sent as SNI and verified against the certificate). */
struct tls *tls_new(struct tls_ctx *ctx, const char *host);
void tls_free(struct tls *t);

#define TLS_PLAIN_HTTP 1 /* tls_feed(): the peer spoke plain HTTP to a TLS server */

/* Ciphertext received: the plaintext it holds is appended to plain. 0, TLS_PLAIN_HTTP, -E2BIG (plain is full), or
 * -EPROTO with a message in err (a failed handshake, a bad record, a refused certificate). Afterwards, send what
 * tls_take() gives (a handshake's answer, an alert). */
int tls_feed(struct tls *t, const char *data, size_t len, struct buf *plain, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Plaintext to send: encrypted now, or kept until the handshake is done. 0, or -EPROTO with a message in err. */
int tls_write(struct tls *t, const char *data, size_t len, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Move the ciphertext to send into out (appended; out should have no limit). */
void tls_take(struct tls *t, struct buf *out);
/* Queue the close_notify alert (then tls_take()). */
void tls_close_notify(struct tls *t);
/* Is the handshake done? */
bool tls_established(const struct tls *t);
/* Did the peer present a certificate that verified? (A server's client, with client_ca.) */
bool tls_peer_verified(const struct tls *t);

#endif
