/* net/tls: a client's and a server's connections talking through memory only (what one's tls_take() gives is the
 * other's tls_feed()), with a CA and certificates made here by OpenSSL in a temporary directory. One row per case:
 * which certificate the server presents, which CA the client trusts, the name it asks for, a client certificate
 * or none and whether the server asks for one; then whether each side comes through the handshake, what the
 * client's error says, and whether the server saw a verified client certificate. Also: plaintext written before
 * the handshake is sent after it, plain HTTP to the server is told apart, and bad files are refused with the
 * flag's name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "net/tls.h"
#include "util/buf.h"
#include "util/rmtree.h"

static char dir[] = "/tmp/gnomon-test-tls-XXXXXX";

static char *path(const char *name)
{
	static char p[8][256];
	static int i;
	char *out = p[i++ % 8];
	snprintf(out, sizeof(p[0]), "%s/%s", dir, name);
	return out;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* NAME.pem and NAME.key: a certificate for san (NULL: a CA) signed by issuer (NULL: by itself). */
static void make(const char *name, const char *san, const char *usage, X509 *issuer, EVP_PKEY *issuer_key,
    X509 **out_x, EVP_PKEY **out_k)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *subject = X509_NAME_new();
	char file[300];
	FILE *f;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)strlen(name) * 1000 + name[0]);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject);
	if (san) {
		add_ext(x, issuer, NID_subject_alt_name, san);
		add_ext(x, issuer, NID_ext_key_usage, usage);
	} else {
		add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : k, EVP_sha256()) > 0);
	snprintf(file, sizeof(file), "%s/%s.pem", dir, name);
	assert_non_null(f = fopen(file, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(file, sizeof(file), "%s/%s.key", dir, name);
	assert_non_null(f = fopen(file, "w"));
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_NAME_free(subject);
	if (out_x) {
		*out_x = x;
		*out_k = k;
	} else {
		X509_free(x);
		EVP_PKEY_free(k);
	}
}

static int setup(void **state)
{
	X509 *ca, *other;
	EVP_PKEY *ca_k, *other_k;
	(void)state;

	if (mkdtemp(dir) == NULL)
		return -1;
	make("ca", NULL, NULL, NULL, NULL, &ca, &ca_k);
	make("other-ca", NULL, NULL, NULL, NULL, &other, &other_k);
	make("server", "DNS:localhost,IP:127.0.0.1", "serverAuth", ca, ca_k, NULL, NULL);
	make("agent", "DNS:agent.example", "clientAuth", ca, ca_k, NULL, NULL);
	make("stranger", "DNS:agent.example", "clientAuth", other, other_k, NULL, NULL);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ca_k);
	EVP_PKEY_free(other_k);
	return 0;
}

static int teardown(void **state)
{
	char err[256];
	(void)state;
	return rmtree_at(AT_FDCWD, dir, err, sizeof(err)) == 0 ? 0 : -1;
}

/* Move the bytes each side has for the other until neither has any; the first failure of each side is kept. */
static void pump(struct tls *client, struct tls *server, struct buf *cplain, struct buf *splain, int *crc,
    int *src, char *cerr, char *serr)
{
	for (int round = 0; round < 20; round++) {
		struct buf a, b;
		bool moved = false;
		buf_init(&a, 0);
		buf_init(&b, 0);
		tls_take(client, &a);
		if (a.len && *src == 0) {
			*src = tls_feed(server, a.data, a.len, splain, serr, 256);
			moved = true;
		}
		tls_take(server, &b);
		if (b.len && *crc == 0) {
			*crc = tls_feed(client, b.data, b.len, cplain, cerr, 256);
			moved = true;
		}
		buf_free(&a);
		buf_free(&b);
		if (!moved)
			return;
	}
	fail_msg("the handshake did not settle");
}

static void test_handshakes(void **state)
{
	static const struct {
		const char *ca, *host, *cert, *client_ca;
		bool ok;             /* both sides through the handshake */
		const char *cerr;    /* what the client's error says, when it fails */
		bool verified;       /* the server saw a client certificate that verified */
	} rows[] = {
		{"ca", "localhost", NULL, NULL, true, NULL, false},
		{"ca", "127.0.0.1", NULL, NULL, true, NULL, false},
		{"other-ca", "localhost", NULL, NULL, false, "certificate refused", false},
		{"ca", "gnomon.example", NULL, NULL, false, "hostname mismatch", false},
		{"ca", "127.0.0.2", NULL, NULL, false, "IP address mismatch", false},
		{"ca", "localhost", NULL, "ca", true, NULL, false},          /* asked for, not required */
		{"ca", "localhost", "agent", "ca", true, NULL, true},
		{"ca", "localhost", "agent", NULL, true, NULL, false},       /* not asked for: not sent */
		{"ca", "localhost", "stranger", "ca", false, "", false},     /* the server refuses it */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tls_ctx *sctx, *cctx;
		struct tls *server, *client;
		struct buf cplain, splain;
		char err[256] = "", cerr[256] = "", serr[256] = "";
		int crc = 0, src = 0;
		char cert[64], key[64];

		snprintf(cert, sizeof(cert), "%s.pem", rows[i].cert ? rows[i].cert : "");
		snprintf(key, sizeof(key), "%s.key", rows[i].cert ? rows[i].cert : "");
		assert_int_equal(tls_ctx_server_new(path("server.pem"), path("server.key"),
		    rows[i].client_ca ? path("ca.pem") : NULL, NULL, &sctx, err, sizeof(err)), 0);
		snprintf(err, sizeof(err), "%s.pem", rows[i].ca);
		assert_int_equal(tls_ctx_client_new(path(err), rows[i].cert ? path(cert) : NULL,
		    rows[i].cert ? path(key) : NULL, NULL, &cctx, err, sizeof(err)), 0);
		server = tls_new(sctx, NULL);
		client = tls_new(cctx, rows[i].host);
		buf_init(&cplain, 0);
		buf_init(&splain, 0);
		assert_int_equal(tls_write(client, "GET / HTTP/1.1\r\n\r\n", 18, err, sizeof(err)), 0); /* kept */
		pump(client, server, &cplain, &splain, &crc, &src, cerr, serr);
		if (rows[i].ok != (crc == 0 && src == 0 && tls_established(client) && tls_established(server)))
			fail_msg("row %zu: client %d (%s), server %d (%s)", i, crc, cerr, src, serr);
		if (rows[i].ok) {
			assert_int_equal(splain.len, 18); /* written before the handshake, sent after it */
			assert_int_equal(tls_write(server, "pong", 4, err, sizeof(err)), 0);
			pump(client, server, &cplain, &splain, &crc, &src, cerr, serr);
			assert_int_equal(cplain.len, 4);
			assert_memory_equal(cplain.data, "pong", 4);
			tls_close_notify(client);
			pump(client, server, &cplain, &splain, &crc, &src, cerr, serr);
			assert_int_equal(src, 0);
		} else if (rows[i].cerr && strstr(cerr, rows[i].cerr) == NULL) {
			fail_msg("row %zu: the client says '%s', not '%s'", i, cerr, rows[i].cerr);
		}
		if (tls_peer_verified(server) != rows[i].verified)
			fail_msg("row %zu: verified %d", i, tls_peer_verified(server));
		buf_free(&cplain);
		buf_free(&splain);
		tls_free(client);
		tls_free(server);
		tls_ctx_free(cctx);
		tls_ctx_free(sctx);
	}
}

static void test_plain_http_told(void **state)
{
	struct tls_ctx *sctx;
	struct tls *server;
	struct buf plain;
	char err[256];
	static const char req[] = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
	(void)state;

	assert_int_equal(tls_ctx_server_new(path("server.pem"), path("server.key"), NULL, NULL, &sctx, err,
	    sizeof(err)), 0);
	server = tls_new(sctx, NULL);
	buf_init(&plain, 0);
	assert_int_equal(tls_feed(server, req, sizeof(req) - 1, &plain, err, sizeof(err)), TLS_PLAIN_HTTP);
	assert_int_equal(plain.len, 0);
	assert_int_equal(tls_feed(server, "x", 1, &plain, err, sizeof(err)), -EPROTO); /* and it stays failed */
	tls_free(server);
	tls_ctx_free(sctx);
}

static void test_bad_files(void **state)
{
	static const struct tls_labels flags = {"--tls-cert", "--tls-key", "--tls-client-ca"};
	static const struct {
		const char *cert, *key, *ca;
		const char *err;
	} rows[] = {
		{"missing.pem", "server.key", NULL, "--tls-cert "},
		{"server.key", "server.key", NULL, "--tls-cert "},
		{"server.pem", "agent.key", NULL, "--tls-key "},
		{"server.pem", "missing.key", NULL, "--tls-key "},
		{"server.pem", "server.key", "missing.pem", "--tls-client-ca "},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tls_ctx *ctx = NULL;
		char err[512] = "";
		assert_int_equal(tls_ctx_server_new(path(rows[i].cert), path(rows[i].key),
		    rows[i].ca ? path(rows[i].ca) : NULL, &flags, &ctx, err, sizeof(err)), -EINVAL);
		if (strncmp(err, rows[i].err, strlen(rows[i].err)) != 0)
			fail_msg("row %zu: '%s' does not start with '%s'", i, err, rows[i].err);
		assert_null(ctx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshakes),
		cmocka_unit_test(test_plain_http_told),
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
