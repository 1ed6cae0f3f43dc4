/* Table tests of the declarative option parser (flags, aliases, environment, bounds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/config.h"

struct opts {
	long long port;
	char *addr;
	bool flag;
	long long size;
	double ratio;
};

static const struct config_option table[] = {
	{"http-port", CONFIG_INT, "4400", 0, 65535, offsetof(struct opts, port), "port"},
	{"http-address", CONFIG_STRING, "127.0.0.1", 0, 0, offsetof(struct opts, addr), "address"},
	{"mail-ssl", CONFIG_BOOL, "false", 0, 0, offsetof(struct opts, flag), "flag"},
	{"max-body-size", CONFIG_SIZE, "1M", 1024, 1LL << 30, offsetof(struct opts, size), "size"},
	{"ratio", CONFIG_DOUBLE, "0.5", 0, 10, offsetof(struct opts, ratio), "ratio"},
	{"master", CONFIG_IGNORED, NULL, 0, 0, 0, ""},
	{NULL, CONFIG_INT, NULL, 0, 0, 0, NULL},
};

struct row {
	const char *args[4];
	int rc;
	const char *err;      /* expected message on failure */
	long long port;
	const char *addr;
	bool flag;
	long long size;
};

static const struct row rows[] = {
	{{NULL}, 0, NULL, 4400, "127.0.0.1", false, 1048576},
	{{"--http-port", "8080", NULL}, 0, NULL, 8080, "127.0.0.1", false, 1048576},
	{{"--http_port", "8081", NULL}, 0, NULL, 8081, "127.0.0.1", false, 1048576},
	{{"--http-port=8082", NULL}, 0, NULL, 8082, "127.0.0.1", false, 1048576},
	{{"--http_address=::1", NULL}, 0, NULL, 4400, "::1", false, 1048576},
	{{"--mail_ssl", NULL}, 0, NULL, 4400, "127.0.0.1", true, 1048576},
	{{"--mail-ssl=false", NULL}, 0, NULL, 4400, "127.0.0.1", false, 1048576},
	{{"--max-body-size", "64K", NULL}, 0, NULL, 4400, "127.0.0.1", false, 65536},
	{{"--master", "zk://x:2181/mesos", "--http-port", "1"}, 0, NULL, 1, "127.0.0.1", false, 1048576},
	{{"--bogus", NULL}, -1, "unknown option '--bogus'", 0, NULL, false, 0},
	{{"--bogus=1", NULL}, -1, "unknown option '--bogus'", 0, NULL, false, 0},
	{{"-x", NULL}, -1, "unknown option '-x'", 0, NULL, false, 0},
	{{"-port", "1", NULL}, -1, "unknown option '-port'", 0, NULL, false, 0},
	{{"-", NULL}, -1, "unexpected argument '-'", 0, NULL, false, 0},
	{{"--", NULL}, -1, "unexpected argument '--'", 0, NULL, false, 0},
	{{"--http-port", "abc", NULL}, -1, "--http-port: invalid value 'abc' (expected an integer)", 0, NULL, false, 0},
	{{"--http-port", "70000", NULL}, -1, "--http-port: 70000 is out of range [0, 65535]", 0, NULL, false, 0},
	{{"--http-port", NULL}, -1, "option --http-port needs a value", 0, NULL, false, 0},
	{{"--mail-ssl=maybe", NULL}, -1, "--mail-ssl: invalid value 'maybe' (expected true or false)", 0, NULL, false, 0},
	{{"--max-body-size", "12Q", NULL}, -1,
	    "--max-body-size: invalid value '12Q' (expected bytes, e.g. 1048576 or 1M)", 0, NULL, false, 0},
	{{"stray", NULL}, -1, "unexpected argument 'stray'", 0, NULL, false, 0},
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct opts o;
		char err[256] = "";
		char *argv[4];
		int argc = 0;
		while (argc < 4 && r->args[argc]) {
			argv[argc] = (char *)(uintptr_t)r->args[argc];
			argc++;
		}
		memset(&o, 0, sizeof(o));
		config_defaults(table, &o);
		int rc = config_parse_args(table, &o, argc, argv, err, sizeof(err));
		if (r->rc == 0) {
			assert_int_equal(rc, 0);
			assert_int_equal(o.port, r->port);
			assert_string_equal(o.addr, r->addr);
			assert_int_equal(o.flag, r->flag);
			assert_int_equal(o.size, r->size);
		} else {
			assert_true(rc < 0);
			assert_string_equal(err, r->err);
		}
		config_free(table, &o);
	}
}

static void test_env(void **state)
{
	struct opts o;
	char err[256];
	(void)state;
	memset(&o, 0, sizeof(o));
	config_defaults(table, &o);
	setenv("GNOMON_HTTP_PORT", "9999", 1);
	setenv("GNOMON_HTTP_ADDRESS", "0.0.0.0", 1);
	assert_int_equal(config_apply_env(table, &o, err, sizeof(err)), 0);
	assert_int_equal(o.port, 9999);
	assert_string_equal(o.addr, "0.0.0.0");
	setenv("GNOMON_HTTP_PORT", "nope", 1);
	assert_true(config_apply_env(table, &o, err, sizeof(err)) < 0);
	assert_string_equal(err, "--http-port: invalid value 'nope' (expected an integer) (from GNOMON_HTTP_PORT)");
	unsetenv("GNOMON_HTTP_PORT");
	unsetenv("GNOMON_HTTP_ADDRESS");
	config_free(table, &o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
