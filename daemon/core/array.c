/* array.c: room in a growable array, doubling, with no overflow of the size. */
#include "base.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "array.h"

int array_reserve(void *p, size_t *cap, size_t want, size_t size, void **out)
{
	size_t ncap;
	void *np;

	*out = p;
	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	np = realloc(p, ncap * size);
	if (!np)
		return -ENOMEM;
	*out = np;
	*cap = ncap;
	return 0;
}
