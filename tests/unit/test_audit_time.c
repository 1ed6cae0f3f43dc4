/* GET /api/v1/audit's `since` (api/gnomon_audit.h's gnomon_audit_parse_time): the ISO 8601 forms it takes, what it
 * refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api/gnomon_audit.h"

static void test_parse_time(void **state)
{
	static const struct {
		const char *text;
		int rc;
		int64_t ms;
	} rows[] = {
		{"2026-12-07", 0, 1796601600000},
		{"2026-12-07T10:00Z", 0, 1796637600000},
		{"2026-12-07T10:00:00Z", 0, 1796637600000},
		{"2026-12-07T10:00:00.250Z", 0, 1796637600250},
		{"2026-12-07T10:00:00,5Z", 0, 1796637600500},
		{"2026-12-07T10:00:00", 0, 1796637600000},
		{"2026-12-07 10:00:00Z", 0, 1796637600000},
		{"2026-12-07T12:00:00+02:00", 0, 1796637600000},
		{"2026-12-07T12:00:00+0200", 0, 1796637600000},
		{"2026-12-07T08:30:00-01:30", 0, 1796637600000},
		{"2026-12-07T12:00:00+02", 0, 1796637600000},
		{"1970-01-01T00:00:00Z", 0, 0},
		{"2024-02-29", 0, 1709164800000},
		{"", -EINVAL, 0},
		{"yesterday", -EINVAL, 0},
		{"2026-12", -EINVAL, 0},
		{"2026-13-01", -EINVAL, 0},
		{"2026-02-30", -EINVAL, 0},
		{"2025-02-29", -EINVAL, 0},
		{"2026-12-07T24:00Z", -EINVAL, 0},
		{"2026-12-07T10:60Z", -EINVAL, 0},
		{"2026-12-07T10Z", -EINVAL, 0},
		{"2026-12-07T10:00:00.Z", -EINVAL, 0},
		{"2026-12-07T10:00:00+25:00", -EINVAL, 0},
		{"2026-12-07T10:00:00Zjunk", -EINVAL, 0},
		{"2026-12-07T10:00:00 +01:00", -EINVAL, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int64_t ms = -1;
		int rc = gnomon_audit_parse_time(rows[i].text, &ms);
		if (rc != rows[i].rc || (rc == 0 && ms != rows[i].ms))
			fail_msg("'%s': %d %lld, expected %d %lld", rows[i].text, rc, (long long)ms, rows[i].rc,
			    (long long)rows[i].ms);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
