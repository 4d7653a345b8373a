/*
 * fuzz.h: what the libFuzzer harnesses share: the entry point's prototype,
 * a scratch file to hand an input to a parser that reads a path, and a
 * fleet ticked once over a recorded proc root for the harnesses of the
 * control protocol and explain.
 */
#ifndef BACKLOGD_FUZZ_H
#define BACKLOGD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct fleet;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Write data into DIR/relpath, DIR a directory made once per process
 * (creating relpath's directories). Return: the directory, the "proc root"
 * of a harness that reads through one. Aborts on failure: a harness that
 * cannot write its input tests nothing.
 */
const char *fuzz_put_file(const char *relpath, const uint8_t *data, size_t size);

/*
 * One fleet over the recorded host (tests/fixtures/proc/host; the
 * listeners are the machine's own, as sock_diag reports them), ticked twice
 * so that every document has content. Made at the first call.
 */
struct fleet *fuzz_fleet(void);

/* data as a NUL-terminated string (a copy: libFuzzer's bytes are not). */
char *fuzz_strdup(const uint8_t *data, size_t size);

#endif
