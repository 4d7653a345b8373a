/*
 * fuzz_sysctl.c: a sysctl file's text, read as one integer (somaxconn) and
 * as the multi-value files (ip_local_port_range: 2, tcp_mem: 3), through
 * the same reads as a tick: a file under a scratch proc root.
 */
#include "base.h"

#include "fuzz.h"
#include "sysctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *root = fuzz_put_file("sys/net/core/somaxconn", data, size);
	int64_t vals[SYSCTL_INTS_MAX];

	sysctl_read_int(root, "sys/net/core/somaxconn");
	sysctl_read_ints(root, "sys/net/core/somaxconn", vals, 2);
	sysctl_read_ints(root, "sys/net/core/somaxconn", vals, 3);
	sysctl_read_ints(root, "sys/net/core/somaxconn", vals, SYSCTL_INTS_MAX);
	return 0;
}
