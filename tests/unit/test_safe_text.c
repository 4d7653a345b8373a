/* test_safe_text.c: safe_text() leaves nothing in outside text that could act on a terminal or split a log line. */
#include "base.h"

#include <string.h>
#include <criterion/criterion.h>

#include "safe_text.h"

static const char *clean(const char *in, size_t len)
{
	static char out[256];

	safe_text(out, sizeof(out), in, len);
	return out;
}

#define CLEAN(lit) clean(lit, sizeof(lit) - 1)

Test(safe_text, c0_controls_and_del_become_question_marks)
{
	cr_assert_str_eq(CLEAN("a\x1b[2Jb"), "a?[2Jb");
	cr_assert_str_eq(CLEAN("bell\a"), "bell?");
	cr_assert_str_eq(CLEAN("tab\there"), "tab?here");
	cr_assert_str_eq(CLEAN("del\x7f"), "del?");
	cr_assert_str_eq(CLEAN("nul\0x"), "nul?x");
}

Test(safe_text, a_newline_cannot_start_a_forged_priority_line)
{
	const char *out = CLEAN("nginx\n<0>backlogd: all is well\r\n<3>x");

	cr_assert_str_eq(out, "nginx?<0>backlogd: all is well?" "?<3>x");
	cr_assert_null(strchr(out, '\n'));
	cr_assert_null(strchr(out, '\r'));
}

Test(safe_text, c1_controls_in_utf8_become_one_question_mark)
{
	/* U+009B is CSI, U+0085 NEL, U+0080 and U+009F the range's ends. */
	cr_assert_str_eq(CLEAN("a\xc2\x9b" "2Jb"), "a?2Jb");
	cr_assert_str_eq(CLEAN("\xc2\x80\xc2\x85\xc2\x9f"), "???");
	/* U+00A0 is the first character past C1: printable, kept. */
	cr_assert_str_eq(CLEAN("\xc2\xa0"), "\xc2\xa0");
}

/*
 * A right-to-left override in a process name would show "app\u202Ehs.exe"
 * as "appexe.sh", and a zero-width space makes "nginx" and "ngi\u200Bnx"
 * look alike: each such character is one '?'.
 */
Test(safe_text, bidi_controls_and_zero_width_characters_become_one_question_mark)
{
	/* U+202E RLO, U+202A LRE, U+2066 LRI, U+2069 PDI, U+200E LRM, U+200F RLM, U+061C ALM. */
	cr_assert_str_eq(CLEAN("app\xe2\x80\xaehs.exe"), "app?hs.exe");
	cr_assert_str_eq(CLEAN("\xe2\x80\xaa\xe2\x81\xa6x\xe2\x81\xa9"), "??x?");
	cr_assert_str_eq(CLEAN("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"), "???");
	/* U+200B ZWSP, U+200D ZWJ, U+2060 WJ, U+FEFF, U+2028 and U+2029 (line and paragraph separators). */
	cr_assert_str_eq(CLEAN("ngi\xe2\x80\x8bnx\xe2\x80\x8d\xe2\x81\xa0\xef\xbb\xbf"), "ngi?nx???");
	cr_assert_str_eq(CLEAN("a\xe2\x80\xa8" "b\xe2\x80\xa9"), "a?b?");
	/* Their neighbours are printable and kept: U+2010 hyphen, U+2030 per mille, U+2070 superscript 0, U+061B. */
	cr_assert_str_eq(CLEAN("\xe2\x80\x90\xe2\x80\xb0\xe2\x81\xb0\xd8\x9b"),
			 "\xe2\x80\x90\xe2\x80\xb0\xe2\x81\xb0\xd8\x9b");
}

Test(safe_text, invalid_utf8_one_question_mark_per_byte)
{
	cr_assert_str_eq(CLEAN("ng\xff\xfe"), "ng??");
	/* Overlong '/', a lone continuation byte, a surrogate, a cut character. */
	cr_assert_str_eq(CLEAN("\xc0\xaf"), "??");
	cr_assert_str_eq(CLEAN("\x80x"), "?x");
	cr_assert_str_eq(CLEAN("\xed\xa0\x80"), "???");
	cr_assert_str_eq(CLEAN("a\xe2\x82"), "a??");
}

Test(safe_text, valid_utf8_is_kept_exactly)
{
	cr_assert_str_eq(CLEAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7");
	cr_assert_str_eq(CLEAN("nginx: worker process"), "nginx: worker process");
}

Test(safe_text, a_character_is_never_cut_in_half)
{
	char out[5];

	/* "ab" then a 3-byte euro sign: 2 + 3 bytes do not fit 4, so the euro is left out whole. */
	cr_assert_eq(safe_text(out, sizeof(out), "ab\xe2\x82\xac", 5), 2);
	cr_assert_str_eq(out, "ab");
	cr_assert_eq(safe_text(out, 1, "abc", 3), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(safe_text(out, 0, "abc", 3), 0);
}

Test(safe_text, in_place)
{
	char s[] = "\x1b[31mred\xc2\x9b\xc3\xa9\n";

	safe_text_inplace(s);
	cr_assert_str_eq(s, "?[31mred?\xc3\xa9?");
}
