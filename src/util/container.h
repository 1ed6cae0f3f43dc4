/* The struct that holds a member, from a pointer to the member (an intrusive heap node, list link...). */
#ifndef GNOMON_UTIL_CONTAINER_H
#define GNOMON_UTIL_CONTAINER_H

#include <stddef.h>

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
