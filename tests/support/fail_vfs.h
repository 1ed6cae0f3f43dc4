/* Injected commit failures for the tests: an SQLite VFS over the default one, registered as the default, that
 * fails the first write to a write-ahead log after fail_vfs_arm() with SQLITE_FULL (the disk is full), as a disk
 * or a network backend fails a commit. Only a connection that writes logs a change, so a checkpointer (which
 * writes the database file) and readers are never failed. The simulation (tests/sim) and the contract suites
 * (tests/contract) use it. */
#ifndef GNOMON_TESTS_FAIL_VFS_H
#define GNOMON_TESTS_FAIL_VFS_H

#include <stdbool.h>
#include <stdint.h>

/* Register the VFS as the default (once per process; later calls do nothing). 0, or -1 when SQLite refuses. */
int fail_vfs_install(void);
/* on: the next write to a log fails (until then, nothing does); off: none will. */
void fail_vfs_arm(bool on);
/* Writes failed so far. */
uint64_t fail_vfs_failures(void);

#endif
