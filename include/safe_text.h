/* safe_text.h: outside text (process, unit, cgroup, namespace names) made safe for a terminal or a log line. */
#ifndef BACKLOG_SAFE_TEXT_H
#define BACKLOG_SAFE_TEXT_H

#include <stddef.h>

/*
 * The length of the UTF-8 character at p[0, avail), p[0] >= 0x80.
 * Return: 2 to 4 when it is well-formed (no overlong forms, surrogates or
 * code points past U+10FFFF), 0 when it is not, -1 when it may be but
 * avail ends inside it.
 */
int utf8_char_len(const unsigned char *p, size_t avail);

/*
 * Copy in[0, len) to out (size bytes, NUL-terminated) with every byte that
 * could act on a terminal or split a log line made '?': C0 controls
 * (newline, ESC, BEL ...), DEL, NUL, C1 controls written in UTF-8
 * (U+0080..U+009F), the invisible characters that reorder or disguise a
 * line (bidirectional controls and marks, zero-width characters, the line
 * and paragraph separators) and bytes that are not well-formed UTF-8, one
 * '?' per byte (one per C1 or invisible character). Well-formed printable UTF-8 is kept and
 * never cut in half. With no line break left, a name cannot start a line
 * of its own, so it cannot forge a "<N>" priority. out may be in.
 * Return: the length written, without the NUL.
 */
size_t safe_text(char *out, size_t size, const char *in, size_t len);

/* safe_text() of a NUL-terminated string, in place. */
void safe_text_inplace(char *s);

#endif
