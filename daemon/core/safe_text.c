/* safe_text.c: the one neutraliser for outside text on its way to a terminal or a log line. */
#include "base.h"

#include <stdbool.h>
#include <string.h>

#include "safe_text.h"

int utf8_char_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((size_t)i >= avail)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/*
 * Invisible characters that still act on what is shown: the bidirectional
 * controls (U+202A..U+202E, U+2066..U+2069, the marks U+200E, U+200F and
 * U+061C) reorder the rest of a terminal line or log line, so a name could
 * make "nginx[812]" read as another; the zero-width ones (U+200B..U+200D,
 * U+2060, U+FEFF) make two different names look the same; U+2028 and
 * U+2029 break a line in some viewers. p is a well-formed character of n bytes.
 */
static bool invisible_format(const unsigned char *p, int n)
{
	if (n == 2)
		return p[0] == 0xd8 && p[1] == 0x9c;
	if (n != 3)
		return false;
	if (p[0] == 0xef)
		return p[1] == 0xbb && p[2] == 0xbf;
	if (p[0] != 0xe2)
		return false;
	if (p[1] == 0x80)
		return (p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xa8 && p[2] <= 0xae);
	return p[1] == 0x81 && (p[2] == 0xa0 || (p[2] >= 0xa6 && p[2] <= 0xa9));
}

size_t safe_text(char *out, size_t size, const char *in, size_t len)
{
	const unsigned char *raw = (const unsigned char *)in;
	size_t i = 0, o = 0;

	if (size == 0)
		return 0;
	while (i < len && o < size - 1) {
		unsigned char c = raw[i];
		int n;

		if (c < 0x80) {
			out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
			i++;
			continue;
		}
		n = utf8_char_len(raw + i, len - i);
		if (n <= 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		/* C1 controls (U+0080..U+009F) act on a terminal like C0 ones (CSI is U+009B); see invisible_format. */
		if ((n == 2 && c == 0xc2 && raw[i + 1] < 0xa0) || invisible_format(raw + i, n)) {
			out[o++] = '?';
			i += (size_t)n;
			continue;
		}
		if (o + (size_t)n > size - 1)
			break;
		/* memmove: out may be in, and o never passes i. */
		memmove(out + o, raw + i, (size_t)n);
		o += (size_t)n;
		i += (size_t)n;
	}
	out[o] = '\0';
	return o;
}

void safe_text_inplace(char *s)
{
	size_t len = strlen(s);

	safe_text(s, len + 1, s, len);
}
