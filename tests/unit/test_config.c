/* Table tests of the declarative option parser (flags, aliases, environment, bounds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/config.h"

struct opts {
	long long port;
	char *addr;
	bool flag;
	long long size;
	double ratio;
	char *password;
	char *config;
};

static const struct config_option table[] = {
	{"http-port", CONFIG_INT, "4400", 0, 65535, offsetof(struct opts, port), "port"},
	{"http-address", CONFIG_STRING, "127.0.0.1", 0, 0, offsetof(struct opts, addr), "address"},
	{"mail-ssl", CONFIG_BOOL, "false", 0, 0, offsetof(struct opts, flag), "flag"},
	{"max-body-size", CONFIG_SIZE, "1M", 1024, 1LL << 30, offsetof(struct opts, size), "size"},
	{"ratio", CONFIG_DOUBLE, "0.5", 0, 10, offsetof(struct opts, ratio), "ratio"},
	{"master", CONFIG_IGNORED, NULL, 0, 0, 0, ""},
	{"mail-password", CONFIG_SECRET, NULL, 0, 0, offsetof(struct opts, password), "secret"},
	{"config", CONFIG_FILE, NULL, 0, 0, offsetof(struct opts, config), "file"},
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
	/* fuzz_config: the suffix's product overflowed (undefined behaviour) */
	{{"--max-body-size", "64233720368547758G", NULL}, -1, "--max-body-size: invalid value '64233720368547758G' "
	    "(expected bytes, e.g. 1048576 or 1M)", 0, NULL, false, 0},
	{{"--max-body-size", "-9007199254740993K", NULL}, -1, "--max-body-size: invalid value '-9007199254740993K' "
	    "(expected bytes, e.g. 1048576 or 1M)", 0, NULL, false, 0},
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

/* Write text to a fresh temporary file; returns its path (static storage). */
static const char *write_file(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/gnomon-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

struct file_row {
	const char *text;
	const char *err;      /* NULL: loads; else the message after "PATH:" */
	long long port;
	bool flag;
	const char *password;
};

static const struct file_row file_rows[] = {
	{"", NULL, 4400, false, ""},
	{"# a comment\n\nhttp-port = 8080\n  mail_ssl=true\n", NULL, 8080, true, ""},
	{"http-port=1\r\nmail-password = \" s3 cr#t \"\n", NULL, 1, false, " s3 cr#t "},
	{"--http-port = 2\nmaster = zk://x\n", NULL, 2, false, ""},
	{"http-port = 3", NULL, 3, false, ""},
	{"http-port = 1\nbogus = 2\n", "2: unknown option 'bogus'", 0, false, NULL},
	{"http-port\n", "1: expected 'name = value'", 0, false, NULL},
	{"\n\nhttp-port = x\n", "3: --http-port: invalid value 'x' (expected an integer)", 0, false, NULL},
	{"config = /etc/other\n", "1: config cannot be set in a config file", 0, false, NULL},
	{" = 5\n", "1: unknown option ''", 0, false, NULL},
};

static void test_file(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(file_rows) / sizeof(file_rows[0]); i++) {
		const struct file_row *r = &file_rows[i];
		const char *path = write_file(r->text);
		char err[512] = "", want[512];
		struct opts o;

		memset(&o, 0, sizeof(o));
		config_defaults(table, &o);
		int rc = config_load_file(table, &o, path, err, sizeof(err));
		if (r->err == NULL) {
			assert_int_equal(rc, 0);
			assert_int_equal(o.port, r->port);
			assert_int_equal(o.flag, r->flag);
			assert_string_equal(o.password, r->password);
		} else {
			snprintf(want, sizeof(want), "%s:%s", path, r->err);
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(err, want);
		}
		config_free(table, &o);
		unlink(path);
	}
}

/* Defaults < file < environment < flags, and the file named by --config or GNOMON_CONFIG. */
static void test_load_precedence(void **state)
{
	char err[512], flag[128];
	struct opts o;
	const char *path = write_file("http-port = 1000\nhttp-address = file\nratio = 2\n");
	char *argv[3];

	(void)state;
	snprintf(flag, sizeof(flag), "--config=%s", path);
	argv[0] = flag;
	argv[1] = (char *)(uintptr_t)"--http-port";
	argv[2] = (char *)(uintptr_t)"3000";
	setenv("GNOMON_HTTP_ADDRESS", "env", 1);
	setenv("GNOMON_HTTP_PORT", "2000", 1);
	memset(&o, 0, sizeof(o));
	assert_int_equal(config_load(table, &o, 3, argv, err, sizeof(err)), 0);
	assert_int_equal(o.port, 3000);
	assert_string_equal(o.addr, "env");
	assert_true(o.ratio == 2);
	assert_string_equal(o.config, path);
	config_free(table, &o);

	unsetenv("GNOMON_HTTP_ADDRESS");
	unsetenv("GNOMON_HTTP_PORT");
	setenv("GNOMON_CONFIG", path, 1);
	memset(&o, 0, sizeof(o));
	assert_int_equal(config_load(table, &o, 0, argv, err, sizeof(err)), 0);
	assert_int_equal(o.port, 1000);
	assert_string_equal(o.addr, "file");
	config_free(table, &o);
	unsetenv("GNOMON_CONFIG");
	unlink(path);

	argv[0] = (char *)(uintptr_t)"--config";
	argv[1] = (char *)(uintptr_t)"/nonexistent/gnomon.conf";
	memset(&o, 0, sizeof(o));
	assert_int_equal(config_load(table, &o, 2, argv, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "--config: cannot read '/nonexistent/gnomon.conf': No such file or directory");
	config_free(table, &o);
}

static void test_print_hides_secrets(void **state)
{
	char err[256], *text = NULL;
	size_t len = 0;
	struct opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	config_defaults(table, &o);
	assert_int_equal(config_set(table, &o, "mail-password", "hunter2", err, sizeof(err)), 0);
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	config_print(table, &o, f);
	fclose(f);
	assert_string_equal(text, "http-port = 4400\nhttp-address = 127.0.0.1\nmail-ssl = false\nmax-body-size = 1048576\n"
				  "ratio = 0.5\nmail-password = ********\n# config = \n");
	free(text);
	config_free(table, &o);
}

/* What fuzz_config found: a NUL inside a line (its bytes after it were dropped, or at a line's start the rest of
 * the file), and values that config_print wrote so that they read back otherwise (white space at an end, quotes). */
static void test_text_nul_and_print_round_trip(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *err;
	} nul_rows[] = {
		{"http-port = 80\0garbage\n", 23, "t:1: NUL byte in the line"},
		{"http-port = 80\n\0http-port = x\n", 31, "t:2: NUL byte in the line"},
		{"http-port = 80\n\0", 16, "t:2: NUL byte in the line"},
	};
	static const char *const values[] = {" lead", "trail ", "\"quoted\"", "\"", "in \"middle\" ok", "", "a"};
	char err[256], *text = NULL;
	size_t len = 0;
	struct opts o, back;

	(void)state;
	for (size_t i = 0; i < sizeof(nul_rows) / sizeof(nul_rows[0]); i++) {
		memset(&o, 0, sizeof(o));
		config_defaults(table, &o);
		assert_int_equal(config_load_text(table, &o, "t", nul_rows[i].text, nul_rows[i].len, err, sizeof(err)),
		    -EINVAL);
		assert_string_equal(err, nul_rows[i].err);
		config_free(table, &o);
	}
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		memset(&o, 0, sizeof(o));
		config_defaults(table, &o);
		assert_int_equal(config_set(table, &o, "http-address", values[i], err, sizeof(err)), 0);
		FILE *f = open_memstream(&text, &len);
		assert_non_null(f);
		config_print(table, &o, f);
		fclose(f);
		memset(&back, 0, sizeof(back));
		config_defaults(table, &back);
		assert_int_equal(config_load_text(table, &back, "p", text, len, err, sizeof(err)), 0);
		assert_string_equal(back.addr, values[i]);
		free(text);
		config_free(table, &o);
		config_free(table, &back);
	}
}

/* A repeatable option: every occurrence in the file, the environment (one item a line) and the flags adds one. */
struct list_opts {
	char *attrs;
	char *config;
};

static const struct config_option list_table[] = {
	{"attribute", CONFIG_LIST, NULL, 0, 0, offsetof(struct list_opts, attrs), "repeatable"},
	{"config", CONFIG_FILE, NULL, 0, 0, offsetof(struct list_opts, config), "file"},
	{NULL, CONFIG_INT, NULL, 0, 0, 0, NULL},
};

static void test_list(void **state)
{
	char err[512], flag[128], *text = NULL;
	const char *path = write_file("attribute = rack=a\nattribute = os=debian\n");
	char *argv[4] = {flag, (char *)(uintptr_t)"--attribute", (char *)(uintptr_t)"x=1", (char *)(uintptr_t)"--attribute=y=2"};
	struct list_opts o;
	size_t len = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(config_load(list_table, &o, 0, argv, err, sizeof(err)), 0);
	assert_null(o.attrs); /* none given: NULL */
	config_free(list_table, &o);

	snprintf(flag, sizeof(flag), "--config=%s", path);
	setenv("GNOMON_ATTRIBUTE", "env=1\nenv=2", 1);
	memset(&o, 0, sizeof(o));
	assert_int_equal(config_load(list_table, &o, 4, argv, err, sizeof(err)), 0);
	assert_string_equal(o.attrs, "rack=a\nos=debian\nenv=1\nenv=2\nx=1\ny=2");
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	config_print(list_table, &o, f);
	fclose(f);
	char want[512];
	snprintf(want, sizeof(want), "attribute = rack=a\nattribute = os=debian\nattribute = env=1\nattribute = env=2\n"
	    "attribute = x=1\nattribute = y=2\n# config = %s\n", path);
	assert_string_equal(text, want);
	free(text);
	config_free(list_table, &o);
	unsetenv("GNOMON_ATTRIBUTE");
	unlink(path);

	memset(&o, 0, sizeof(o));
	config_defaults(list_table, &o);
	assert_int_equal(config_set(list_table, &o, "attribute", "a\nb", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--attribute: a value may not hold a line break");
	config_free(list_table, &o);
}

/* A list's empty item is printed too (fuzz_config: a trailing one was dropped). */
static void test_list_print_round_trip(void **state)
{
	static const char *const items[][3] = {{"a", "", NULL}, {"", "b", NULL}, {" x ", "\"y\"", NULL}, {"", NULL}};
	char err[256], *text = NULL;
	size_t len = 0;
	struct list_opts o, back;

	(void)state;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		memset(&o, 0, sizeof(o));
		config_defaults(list_table, &o);
		for (size_t k = 0; items[i][k]; k++)
			assert_int_equal(config_set(list_table, &o, "attribute", items[i][k], err, sizeof(err)), 0);
		FILE *f = open_memstream(&text, &len);
		assert_non_null(f);
		config_print(list_table, &o, f);
		fclose(f);
		memset(&back, 0, sizeof(back));
		config_defaults(list_table, &back);
		assert_int_equal(config_load_text(list_table, &back, "p", text, len, err, sizeof(err)), 0);
		assert_non_null(back.attrs);
		assert_string_equal(back.attrs, o.attrs);
		free(text);
		config_free(list_table, &o);
		config_free(list_table, &back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_load_precedence),
		cmocka_unit_test(test_print_hides_secrets),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_text_nul_and_print_round_trip),
		cmocka_unit_test(test_list_print_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
