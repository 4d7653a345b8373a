/* sort.h: an in-place sort that never allocates, for the arrays sorted on every tick. */
#ifndef BACKLOGD_SORT_H
#define BACKLOGD_SORT_H

#include <stddef.h>

/*
 * Sort n elements of size bytes at base by cmp, in place, with no memory
 * beyond the stack (glibc's qsort before 2.37 mallocs room for any array
 * over 1 KiB). Not stable: cmp must order every two distinct elements, or
 * the elements it calls equal must be alike.
 */
void sort_inplace(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
