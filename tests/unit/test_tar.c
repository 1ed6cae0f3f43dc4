/* The ustar headers `gnomon backup` writes and reads (util/tar.h): a table of files written and read back, sizes
 * past the octal field's 8 GiB (base 256), the padding, and the headers a reader refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/tar.h"

static void test_round_trip(void **state)
{
	static const struct {
		const char *name;
		unsigned mode;
		uint64_t size;
		int64_t mtime;
	} rows[] = {
		{"gnomon.db", 0640, 61440, 1796659955},
		{"logs/ct_1_0_a_-68a2ef32bd9d2b8defe85a510087ceff.stdout", 0600, 0, 0},
		{"a", 07777, 1, -5},
		{"x", 0644, 077777777777ULL, 1},          /* the largest octal size */
		{"y", 0644, 077777777777ULL + 1, 1},      /* base 256 from here */
		{"z", 0644, (uint64_t)1 << 45, 1},
		{"n123456789n123456789n123456789n123456789n123456789n123456789n123456789n123456789n123456789n12345678", 0644,
		    3, 3}, /* 99 bytes */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned char h[TAR_BLOCK];
		struct tar_entry e;
		char err[128];
		assert_int_equal(tar_header(h, rows[i].name, rows[i].mode, rows[i].size, rows[i].mtime), 0);
		assert_int_equal(tar_parse(h, &e, err, sizeof(err)), 1);
		assert_string_equal(e.name, rows[i].name);
		assert_int_equal(e.mode, rows[i].mode);
		assert_int_equal(e.size, rows[i].size);
		assert_int_equal(e.type, '0');
		assert_memory_equal(h + 257, "ustar\0" "00", 8);
	}
}

static void test_refused(void **state)
{
	unsigned char h[TAR_BLOCK], bad[TAR_BLOCK];
	struct tar_entry e;
	char err[128], long_name[TAR_NAME_MAX + 1];
	(void)state;

	memset(long_name, 'a', TAR_NAME_MAX);
	long_name[TAR_NAME_MAX] = '\0';
	assert_int_equal(tar_header(h, long_name, 0644, 1, 1), -ENAMETOOLONG);
	long_name[TAR_NAME_MAX - 1] = '\0';
	assert_int_equal(tar_header(h, long_name, 0644, 1, 1), 0);

	memset(bad, 0, sizeof(bad));
	assert_int_equal(tar_parse(bad, &e, err, sizeof(err)), 0); /* the end */

	assert_int_equal(tar_header(h, "f", 0644, 10, 1), 0);
	memcpy(bad, h, sizeof(bad));
	bad[0] = 'g'; /* the checksum no longer matches */
	assert_int_equal(tar_parse(bad, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "header checksum mismatch");
	memcpy(bad, h, sizeof(bad));
	memcpy(bad + 257, "pax  ", 5);
	assert_int_equal(tar_parse(bad, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not a ustar header");
	memcpy(bad, h, sizeof(bad));
	bad[124] = 'x'; /* the size, and a checksum made to match */
	memcpy(bad + 148, "        ", 8);
	unsigned sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += bad[i];
	snprintf((char *)bad + 148, 8, "%06o", sum);
	assert_int_equal(tar_parse(bad, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "header field is not a number");
}

static void test_padding(void **state)
{
	static const struct {
		uint64_t size;
		size_t pad;
	} rows[] = {{0, 0}, {1, 511}, {511, 1}, {512, 0}, {513, 511}, {61440, 0}, {((uint64_t)1 << 40) + 3, 509}};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(tar_padding(rows[i].size), rows[i].pad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_padding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
