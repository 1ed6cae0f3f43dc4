/* Injected store failures: an SQLite VFS over the default one, registered as the default, that fails the first
 * write to a write-ahead log after sim_vfs_arm() with SQLITE_FULL (the disk is full), as a disk or a network
 * backend fails a commit. Only the store's own connection writes the log (the checkpointer writes the database
 * file, the simulation's readers nothing), so which commit fails depends on the seed alone. */
#ifndef GNOMON_SIM_VFS_H
#define GNOMON_SIM_VFS_H

#include <stdbool.h>
#include <stdint.h>

/* Register the VFS as the default (once per process). 0, or -1 when SQLite refuses. */
int sim_vfs_install(void);
/* The next write to a log fails (until then, nothing does). */
void sim_vfs_arm(bool on);
/* Writes failed so far. */
uint64_t sim_vfs_failures(void);

#endif
