/* array.h: room in a growable array, for the arrays kept from one tick to the next. */
#ifndef BACKLOGD_ARRAY_H
#define BACKLOGD_ARRAY_H

#include <stddef.h>

/*
 * Make room for want elements of size bytes in the array p of *cap
 * elements, doubling (so that a steady tick allocates nothing). *out is
 * the (maybe moved) array. Return: 0, or -ENOMEM with p untouched.
 */
int array_reserve(void *p, size_t *cap, size_t want, size_t size, void **out);

#endif
