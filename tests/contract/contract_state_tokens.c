/* The state's contract for API tokens (state.h's state_put_token, state_delete_token, state_load_tokens). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "contract_state.h"

static int token_text(void *ctx, const struct state_token *tok)
{
	ct_appendf(ctx, "%s %s %.8s %lld|", tok->name, tok->role, tok->hash, (long long)tok->created_ms);
	return 0;
}

static const char *tokens(struct fixture *f, struct text *out)
{
	ct_clear(out);
	assert_int_equal(state_load_tokens(f->s, token_text, out), 0);
	return out->s;
}

/* Tokens come back by name with their role, hash and creation time as written; a put of a name that exists replaces
 * it; a delete removes one (and of a name that is not there, nothing); an aborted transaction leaves none. */
void test_state_tokens(void **state)
{
	struct fixture *f = *state;
	struct state_txn *t = ct_begin(f);
	struct text out;

	assert_string_equal(tokens(f, &out), "");
	assert_int_equal(state_put_token(t, &(struct state_token){"ops", "operator", "0123456789abcdef", 5}), 0);
	assert_int_equal(state_put_token(t, &(struct state_token){"ci-1", "viewer", "fedcba9876543210", 7}), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(tokens(f, &out), "ci-1 viewer fedcba98 7|ops operator 01234567 5|");
	t = ct_begin(f);
	assert_int_equal(state_put_token(t, &(struct state_token){"ops", "admin", "aaaaaaaabbbb", 9}), 0);
	assert_int_equal(state_delete_token(t, "ci-1"), 0);
	assert_int_equal(state_delete_token(t, "nobody"), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(tokens(f, &out), "ops admin aaaaaaaa 9|");
	t = ct_begin(f);
	assert_int_equal(state_put_token(t, &(struct state_token){"gone", "viewer", "00", 1}), 0);
	state_abort(t);
	assert_string_equal(tokens(f, &out), "ops admin aaaaaaaa 9|");
}
