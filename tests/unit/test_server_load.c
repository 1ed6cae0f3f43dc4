/* server_load: stored jobs parsed on several threads come into the registry in creation order, across batches,
 * with the rows that are not jobs counted and skipped (the ThreadSanitizer build runs this). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdio.h>

#include "job/job.h"
#include "scheduler/registry.h"
#include "server/server_load.h"
#include "state/state.h"
#include "state/state_sqlite.h"
#include "store/store.h"

#define N 9000 /* more than one batch of 8192 */

static char dir[] = "/tmp/gnomon-test-load-XXXXXX";

static void test_parallel_load(void **state)
{
	struct store *s;
	struct state *st;
	struct registry *reg = registry_new();
	struct load_result lr = {0};
	char err[256], name[32], json[256];
	size_t k = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, &s, err, sizeof(err)), 0);
	assert_int_equal(store_begin(s), 0);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "job-%05d", i);
		snprintf(json, sizeof(json), "{\"name\":\"%s\",\"command\":\"echo %d\",\"schedule\":\"R/2030-01-01T00:00:00Z/"
		    "P1D\"}", name, i);
		assert_int_equal(store_put_job(s, name, json), 0);
		if (i == 100 || i == 8500) { /* a row that is not a job, in each batch */
			snprintf(name, sizeof(name), "broken-%d", i);
			assert_int_equal(store_put_job(s, name, "{\"name\": "), 0);
		}
	}
	assert_int_equal(store_commit(s), 0);
	st = state_sqlite_new(s);
	assert_int_equal(server_load_jobs(st, reg, NULL, 0, &lr), 0);
	assert_int_equal(lr.loaded, N);
	assert_int_equal(lr.failed, 2);
	assert_int_equal(registry_count(reg), N);
	for (size_t i = 0; i < registry_slots(reg); i++) {
		struct jobrec *rec = registry_slot(reg, i);
		if (rec == NULL)
			continue;
		snprintf(name, sizeof(name), "job-%05zu", k);
		assert_string_equal(rec->job->name, name);
		snprintf(json, sizeof(json), "echo %zu", k);
		assert_string_equal(rec->job->command, json);
		k++;
	}
	assert_int_equal(k, N);
	registry_free(reg);
	state_free(st);
	store_close(s);
	snprintf(json, sizeof(json), "rm -rf %s", dir);
	assert_int_equal(system(json), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
