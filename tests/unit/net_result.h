/* What the net tests keep of a request's end (net/net.h's completion callback): on_done with a struct result as
 * its context. Shared by test_net.c and test_net_conn.c. */
#ifndef GNOMON_TESTS_NET_RESULT_H
#define GNOMON_TESTS_NET_RESULT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "net/net.h"

struct result {
	int calls;
	int rc;
	long status;
	char body[256];
	size_t body_len;
	char header[64]; /* the response's X-Test field */
	char err[256];
};

static inline void on_done(void *ctx, int rc, const struct net_response *resp, const char *err)
{
	struct result *r = ctx;
	const char *h;

	r->calls++;
	r->rc = rc;
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
	if (rc < 0) {
		assert_null(resp);
		return;
	}
	r->status = resp->status;
	r->body_len = resp->body_len;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)resp->body_len, resp->body);
	h = net_response_header(resp, "x-test");
	snprintf(r->header, sizeof(r->header), "%s", h ? h : "");
}

#endif
