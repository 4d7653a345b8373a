/* sort.h: an in-place sort that never allocates, for the arrays sorted on every tick. */
#ifndef BACKLOGD_SORT_H
#define BACKLOGD_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Sort n elements of size bytes at base by cmp, in place, with no memory
 * beyond the stack (glibc's qsort before 2.37 mallocs room for any array
 * over 1 KiB). Not stable: cmp must order every two distinct elements, or
 * the elements it calls equal must be alike.
 */
void sort_inplace(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/*
 * Binary search of n elements of size bytes at base, sorted by the
 * uint64_t at byte offset off of each (a cookie, an inode): the first
 * whose key is not below key. Return: its index (n when none), and
 * *found (may be NULL): whether its key is key.
 */
size_t sort_find_u64(const void *base, size_t n, size_t size, size_t off, uint64_t key, bool *found);

#endif
