/* The reference the scheduler benchmarks measure gnomon against: what this machine does without gnomon.
 * Compiled by the benchmark scripts at run time (cc -O2); prints one JSON object on stdout.
 *
 *   spawnref rate N K            N runs of /bin/true by posix_spawn + waitpid, K in flight at once
 *   spawnref deadlines RATE SEC  for SEC seconds, sleep until absolute deadlines RATE times a second (whole
 *                                milliseconds of CLOCK_REALTIME, as gnomon's slots), then posix_spawn /bin/true
 *                                and waitpid it; reports the lateness of the wake-up (the moment gnomon records
 *                                as a run's start) and of the spawn's return, in microseconds, and the wake-up
 *                                lateness at gnomon's resolution (whole milliseconds, truncated)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char *const true_argv[] = {"true", NULL};

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static pid_t spawn_true(void)
{
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ);
	if (rc != 0) {
		fprintf(stderr, "spawnref: posix_spawn: %s\n", strerror(rc));
		exit(1);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("spawnref: waitpid");
			exit(1);
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "spawnref: /bin/true failed\n");
		exit(1);
	}
}

static int rate(long n, long k)
{
	long started = 0, done = 0, running = 0;
	int64_t t0 = now_ns(CLOCK_MONOTONIC);

	while (done < n) {
		while (running < k && started < n) {
			spawn_true();
			started++;
			running++;
		}
		reap(-1);
		running--;
		done++;
	}
	double s = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	printf("{\"runs\": %ld, \"in_flight\": %ld, \"seconds\": %.6f, \"rate\": %.1f}\n", n, k, s, (double)n / s);
	return 0;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t pct(const int64_t *v, long n, double p)
{
	long i = (long)(p * (double)n + 0.999999) - 1; /* nearest rank */
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

static void print_dist(const char *name, int64_t *v, long n, int last)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	printf("\"%s\": {\"p50\": %lld, \"p99\": %lld, \"max\": %lld}%s", name, (long long)pct(v, n, 0.50),
	    (long long)pct(v, n, 0.99), (long long)v[n - 1], last ? "" : ", ");
}

static int deadlines(double per_s, double seconds)
{
	long n = (long)(per_s * seconds);
	int64_t *wake = calloc((size_t)n, sizeof(int64_t)), *spawned = calloc((size_t)n, sizeof(int64_t));
	int64_t *wake_ms = calloc((size_t)n, sizeof(int64_t));
	/* first deadline: the next whole second plus one, so every deadline is a whole millisecond */
	int64_t base_ms = now_ns(CLOCK_REALTIME) / 1000000000 * 1000 + 1000;

	if (!wake || !spawned || !wake_ms || n < 1)
		return 1;
	for (long i = 0; i < n; i++) {
		int64_t due_ms = base_ms + (int64_t)((double)i * 1000.0 / per_s + 0.5), due_ns = due_ms * 1000000;
		struct timespec ts = {.tv_sec = due_ms / 1000, .tv_nsec = (long)(due_ms % 1000) * 1000000};
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		int64_t t = now_ns(CLOCK_REALTIME);
		pid_t pid = spawn_true();
		int64_t t2 = now_ns(CLOCK_REALTIME);
		reap(pid);
		wake[i] = (t - due_ns) / 1000;
		spawned[i] = (t2 - due_ns) / 1000;
		wake_ms[i] = t / 1000000 - due_ms;
	}
	printf("{\"samples\": %ld, \"per_s\": %.2f, ", n, per_s);
	print_dist("wake_us", wake, n, 0);
	print_dist("spawned_us", spawned, n, 0);
	print_dist("wake_ms", wake_ms, n, 1);
	printf("}\n");
	free(wake);
	free(spawned);
	free(wake_ms);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "rate") == 0)
		return rate(atol(argv[2]), atol(argv[3]));
	if (argc == 4 && strcmp(argv[1], "deadlines") == 0)
		return deadlines(atof(argv[2]), atof(argv[3]));
	fprintf(stderr, "usage: spawnref rate N K | spawnref deadlines RATE SECONDS\n");
	return 2;
}
