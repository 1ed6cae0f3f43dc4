/* The ensemble's spellings (cluster_parse_hosts: gnomon's --zk-hosts and Chronos's zk:// form with a path) and
 * which host lists are loopback only (cluster_hosts_loopback), advertised addresses, and the election nodes'
 * sequence numbers (cluster_node_seq). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster.h"

static void test_parse(void **state)
{
	static const struct {
		const char *spec, *hosts, *path; /* hosts NULL: refused */
	} rows[] = {
		{"h1:2181", "h1:2181", NULL},
		{"h1:2181,h2:2181,h3:2181", "h1:2181,h2:2181,h3:2181", NULL},
		{"zk://h1:2181,h2:2181/chronos/state", "h1:2181,h2:2181", "/chronos/state"},
		{"zk://h1:2181/", "h1:2181", NULL},
		{"h1:2181/gnomon", "h1:2181", "/gnomon"},
		{"[::1]:2181", "[::1]:2181", NULL},
		{"", NULL, NULL},
		{"zk://", NULL, NULL},
		{"h1", NULL, NULL},
		{"h1:", NULL, NULL},
		{":2181", NULL, NULL},
		{"h1:0", NULL, NULL},
		{"h1:65536", NULL, NULL},
		{"h1:218x", NULL, NULL},
		{"h1:2181,", NULL, NULL},
		{"h1:2181,,h2:2181", NULL, NULL},
		{"h1:2181, h2:2181", NULL, NULL},
		{"h1:123456", NULL, NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *hosts = NULL, *path = NULL, err[256] = "";
		int rc = cluster_parse_hosts(rows[i].spec, &hosts, &path, err, sizeof(err));
		if (rows[i].hosts == NULL) {
			assert_int_equal(rc, -22);
			assert_non_null(strstr(err, "--zk-hosts"));
			assert_null(hosts);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(hosts, rows[i].hosts);
		if (rows[i].path)
			assert_string_equal(path, rows[i].path);
		else
			assert_null(path);
		free(hosts);
		free(path);
	}
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(cluster_hosts_loopback("127.0.0.1:2181"));
	assert_true(cluster_hosts_loopback("localhost:2181,127.0.0.2:2182,[::1]:2183"));
	assert_false(cluster_hosts_loopback("127.0.0.1:2181,zk2:2181"));
	assert_false(cluster_hosts_loopback("10.0.0.1:2181"));
	assert_false(cluster_hosts_loopback("localhost.example.com:2181"));
}

static void test_address(void **state)
{
	(void)state;
	assert_true(cluster_address_valid("10.0.0.1:4400"));
	assert_true(cluster_address_valid("gnomon-1.example.com:80"));
	assert_true(cluster_address_valid("[::1]:4400"));
	assert_false(cluster_address_valid(""));
	assert_false(cluster_address_valid("host"));
	assert_false(cluster_address_valid("host:"));
	assert_false(cluster_address_valid(":4400"));
	assert_false(cluster_address_valid("host:0"));
	assert_false(cluster_address_valid("host:65536"));
	assert_false(cluster_address_valid("host:44x"));
	assert_false(cluster_address_valid("ho st:4400"));
	assert_false(cluster_address_valid("host:4400\r\nX-Evil: 1"));
	assert_false(cluster_address_valid("http://host:4400"));
}

/* The election nodes' names (their order is the instances' order): "n_<guid>-" and ten digits. */
static void test_node_seq(void **state)
{
	static const struct {
		const char *name;
		long long seq; /* -1: not an election node */
	} rows[] = {
		{"n_0123456789abcdef00000001-0000000042", 42},
		{"n_x-0000000000", 0},
		{"n_0123-2147483648", 2147483648LL},
		{"n_0123-9999999999", 9999999999LL},
		{"n_0123-000000042", -1},    /* nine digits */
		{"n_0123_0000000042", -1},   /* no dash */
		{"x_0123-0000000042", -1},   /* not ours */
		{"n_0123-00000000-1", -1},   /* a sign */
		{"n_0123-000000004x", -1},
		{"n_0123- 000000042", -1},
		{"n_0123-+000000042", -1},
		{"n_-0000000042", 42},
		{"n_0000000042", -1},        /* too short for a name and a suffix */
		{"", -1},
		{"epoch", -1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(cluster_node_seq(rows[i].name), rows[i].seq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_node_seq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
