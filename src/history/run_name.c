#include "history/run_name.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

static int safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	    c == '-';
}

void run_name(const char *task_id, char out[RUN_NAME_MAX])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	size_t len = strlen(task_id), n = 0;

	for (; n < len && n < RUN_NAME_PREFIX; n++)
		out[n] = safe((unsigned char)task_id[n]) ? task_id[n] : '_';
	if (n > 0 && (out[0] == '.' || out[0] == '-'))
		out[0] = '_';
	if (n > 0)
		out[n++] = '-';
	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)task_id);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (int i = 0; i < 16; i++) {
		out[n++] = hex[digest[i] >> 4];
		out[n++] = hex[digest[i] & 15];
	}
	out[n] = '\0';
}

bool run_name_legacy(const char *name, const char *suffix, int64_t *id)
{
	size_t n = 0, len = strlen(name), slen = strlen(suffix);
	char *end;
	long long v;

	while (name[n] >= '0' && name[n] <= '9')
		n++;
	if (n == 0 || n > 18 || name[0] == '0' || len != n + slen || strcmp(name + n, suffix) != 0)
		return false;
	errno = 0;
	v = strtoll(name, &end, 10);
	if (errno || end != name + n)
		return false;
	*id = v;
	return true;
}
