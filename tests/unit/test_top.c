/* test_top.c: backlogctl top without a terminal: sparklines, the model's order and keys, frames at every size. */
#include "base.h"

#include <criterion/criterion.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "spark.h"
#include "top.h"

Test(top, placeholder)
{
	cr_assert(1);
}
