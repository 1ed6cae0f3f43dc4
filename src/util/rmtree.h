/* Removing and measuring a directory tree that someone else filled (a run's working directory): never following
 * a symbolic link, never leaving the tree's file system, whatever the tree's depth, with a bounded number of open
 * descriptors. */
#ifndef GNOMON_UTIL_RMTREE_H
#define GNOMON_UTIL_RMTREE_H

#include <stddef.h>
#include <stdint.h>

/* Remove the directory `name` of the directory dirfd (AT_FDCWD: a path) and everything in it, through openat()
 * and unlinkat() only: a symlink is removed as a link (its target is never touched, even when the link is
 * replaced meanwhile), a directory the tree made unreadable or unwritable is given back its owner's rwx (through
 * /proc/self/fd, on the exact inode), a mount point inside it is left alone and reported, a tree deeper than a
 * few dozen levels is flattened into its top. Everything that can be removed is; returns 0, -ENOENT when name
 * does not exist, or the first error as a negative errno, described in err ("work/12/a/b: Operation not
 * permitted"). */
int rmtree_at(int dirfd, const char *name, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Bytes the tree at path uses on disk (st_blocks of each entry, without following links or leaving its file
 * system) into *bytes; what cannot be read is not counted. Returns 0 or -errno when path cannot be read. */
int tree_disk_usage(const char *path, int64_t *bytes) __attribute__((warn_unused_result));

#endif
