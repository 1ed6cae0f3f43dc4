/* The in-memory backend (store/mem_backend.h) under the contract suites, as it is (commits complete
 * before they return) and through contract_deferred (their completion held until settle). It has no second
 * reader: its tests of concurrent readers are skipped. */
#include <stdlib.h>

#include "contract.h"
#include "store/mem_backend.h"
#include "util/xmalloc.h"

struct mem_fx {
	struct state *s;
	struct history *h;
};

static int mem_open(const void *arg, void **fx, struct state **s, struct history **h)
{
	struct mem_fx *q = xcalloc(1, sizeof(*q));

	(void)arg;
	mem_backend_new(&q->s, &q->h);
	*fx = q;
	*s = q->s;
	*h = q->h;
	return 0;
}

static void mem_close(void *fx)
{
	struct mem_fx *q = fx;

	state_free(q->s);
	history_free(q->h);
	free(q);
}

static void mem_fail_next_write(void *fx)
{
	mem_backend_fail_next(((struct mem_fx *)fx)->s);
}

int main(void)
{
	static const struct contract_backend mem = {
		.name = "memory",
		.completes_at_once = true,
		.fail_message = "injected failure",
		.open = mem_open,
		.close = mem_close,
		.fail_next_write = mem_fail_next_write,
	};
	const struct contract_backend deferred = contract_deferred(&mem, "memory, completing in settle");
	int failed;

	failed = contract_state_run(&mem);
	failed += contract_state_run(&deferred);
	failed += contract_history_run(&mem);
	failed += contract_history_run(&deferred);
	return failed ? 1 : 0;
}
