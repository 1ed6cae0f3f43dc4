#include "auth/auth_token.h"

#include <errno.h>
#include <nettle/base64.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static const char *const names[] = {"viewer", "operator", "admin"};

const char *auth_role_name(enum auth_role role)
{
	if (role == AUTH_AGENT)
		return "agent";
	if (role < AUTH_VIEWER || role > AUTH_ADMIN)
		return "open";
	return names[role];
}

int auth_role_parse(const char *name, enum auth_role *out)
{
	if (name && strcmp(name, "agent") == 0) {
		*out = AUTH_AGENT;
		return 0;
	}
	for (int i = AUTH_VIEWER; i <= AUTH_ADMIN; i++) {
		if (name && strcmp(name, names[i]) == 0) {
			*out = (enum auth_role)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int auth_token_new(char out[AUTH_TOKEN_LEN + 1])
{
	unsigned char raw[AUTH_TOKEN_BYTES];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	hex(raw, sizeof(raw), out);
	return 0;
}

void auth_hash(const char *secret, size_t len, char out[AUTH_HASH_LEN + 1])
{
	struct sha256_ctx ctx;
	unsigned char digest[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)secret);
	sha256_digest(&ctx, sizeof(digest), digest);
	hex(digest, sizeof(digest), out);
}

bool auth_hash_equal(const char *a, const char *b)
{
	if (strlen(a) != AUTH_HASH_LEN || strlen(b) != AUTH_HASH_LEN)
		return false; /* the lengths are public: every hash has this one */
	return memeql_sec(a, b, AUTH_HASH_LEN) != 0;
}

bool auth_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= AUTH_NAME_MAX &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Basic's base64 of "user:pass" into out. */
static enum auth_scheme basic(const char *b64, char *out, size_t len)
{
	struct base64_decode_ctx ctx;
	size_t n = strlen(b64), done = 0;

	if (n == 0 || BASE64_DECODE_LENGTH(n) >= len)
		return AUTH_SCHEME_BAD;
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &done, (uint8_t *)out, n, b64) || !base64_decode_final(&ctx))
		return AUTH_SCHEME_BAD;
	out[done] = '\0';
	if (memchr(out, '\0', done) != NULL || strchr(out, ':') == NULL)
		return AUTH_SCHEME_BAD;
	return AUTH_SCHEME_BASIC;
}

enum auth_scheme auth_header_parse(const char *field, char *out, size_t len)
{
	const char *p;
	size_t n;

	if (len)
		out[0] = '\0';
	if (field == NULL)
		return AUTH_SCHEME_NONE;
	p = field + strcspn(field, " ");
	n = (size_t)(p - field);
	while (*p == ' ')
		p++;
	if (*p == '\0' || strchr(p, ' ') != NULL)
		return AUTH_SCHEME_BAD;
	if (n == 6 && strncasecmp(field, "Bearer", 6) == 0) {
		if (strlen(p) >= len)
			return AUTH_SCHEME_BAD;
		memcpy(out, p, strlen(p) + 1);
		return AUTH_SCHEME_BEARER;
	}
	if (n == 5 && strncasecmp(field, "Basic", 5) == 0)
		return basic(p, out, len);
	return AUTH_SCHEME_BAD;
}

bool auth_cookie_value(const char *field, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	for (const char *p = field; p && *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t item = strcspn(p, ";");
		if (item > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			size_t v = item - n - 1;
			if (v >= len)
				return false;
			memcpy(out, p + n + 1, v);
			out[v] = '\0';
			return true;
		}
		p += item;
		if (*p == ';')
			p++;
	}
	return false;
}
