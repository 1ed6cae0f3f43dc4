/* Access control's pure parts (README, "Access"): the roles, API tokens (made from 32 random bytes, stored only
 * as their SHA-256), comparisons in constant time, and the Authorization field's parsing. No I/O but the random
 * bytes of auth_token_new(). */
#ifndef GNOMON_AUTH_AUTH_TOKEN_H
#define GNOMON_AUTH_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* What a caller may do, each role from viewer on everything of the one before: a route needs one (api/router.h).
 * AUTH_OPEN: no credential needed (/ping, the UI's files, the agents' protocol, which has its own tokens).
 * AUTH_AGENT: an agent's own token, which the agents' protocol takes and every other route refuses (below every
 * role a route can need). */
enum auth_role { AUTH_AGENT = -2, AUTH_OPEN = -1, AUTH_VIEWER = 0, AUTH_OPERATOR, AUTH_ADMIN };

/* "agent", "viewer", "operator", "admin" ("open" for AUTH_OPEN). */
const char *auth_role_name(enum auth_role role);
/* A role's name ("agent" too) into *out: 0, or -EINVAL (AUTH_OPEN is not a role one can be given). */
int auth_role_parse(const char *name, enum auth_role *out) __attribute__((warn_unused_result));

#define AUTH_TOKEN_BYTES 32
#define AUTH_TOKEN_LEN (2 * AUTH_TOKEN_BYTES) /* a token as text: lower-case hex */
#define AUTH_HASH_LEN 64                      /* SHA-256 in lower-case hex */
#define AUTH_NAME_MAX 64

/* A new token from getrandom() into out: 0, or a negative errno. */
int auth_token_new(char out[AUTH_TOKEN_LEN + 1]) __attribute__((warn_unused_result));
/* SHA-256 of secret (len bytes), in hex, into out. */
void auth_hash(const char *secret, size_t len, char out[AUTH_HASH_LEN + 1]);
/* Are two hashes (auth_hash) equal? In constant time. */
bool auth_hash_equal(const char *a, const char *b);
/* Is name a token's name: 1 to AUTH_NAME_MAX of [A-Za-z0-9._-]? */
bool auth_name_valid(const char *name);

/* What an Authorization field holds. */
enum auth_scheme { AUTH_SCHEME_NONE, AUTH_SCHEME_BEARER, AUTH_SCHEME_BASIC, AUTH_SCHEME_BAD };
/* Parse field (NULL: none): Bearer's token, or Basic's "user:pass" decoded, into out (len bytes). AUTH_SCHEME_BAD
 * for another scheme, a malformed field or one that does not fit. */
enum auth_scheme auth_header_parse(const char *field, char *out, size_t len);

/* The value of cookie name in a Cookie field ("a=1; name=v") into out: true when there is one that fits. */
bool auth_cookie_value(const char *field, const char *name, char *out, size_t len);

#endif
