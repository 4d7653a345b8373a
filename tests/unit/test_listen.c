/* test_listen.c: [metrics] listen and -m: the ADDR:PORT forms accepted, and the mistakes refused with a reason. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"

/* Parse text, which must be accepted, and give it back as config_listen_text writes it. */
static struct config_listen parse_ok(const char *text, char *back, size_t len)
{
	struct config_listen l;
	char want[256] = "";

	cr_assert(config_parse_listen(text, &l, want, sizeof(want)), "'%s' refused: %s", text, want);
	config_listen_text(&l, back, len);
	return l;
}

Test(listen, ipv4_with_port)
{
	char back[64];
	struct config_listen l = parse_ok("127.0.0.1:9999", back, sizeof(back));
	uint8_t lo[4] = { 127, 0, 0, 1 };

	cr_assert(l.on && !l.any);
	cr_assert_eq(l.family, AF_INET);
	cr_assert_eq(l.port, 9999);
	cr_assert_arr_eq(l.addr, lo, 4);
	cr_assert_str_eq(back, "127.0.0.1:9999");
}

Test(listen, ipv6_in_brackets)
{
	char back[64];
	struct config_listen l = parse_ok("[::1]:9200", back, sizeof(back));
	uint8_t lo6[16] = { [15] = 1 };

	cr_assert_eq(l.family, AF_INET6);
	cr_assert_eq(l.port, 9200);
	cr_assert_arr_eq(l.addr, lo6, 16);
	cr_assert_str_eq(back, "[::1]:9200");
	parse_ok("[fe80::1:2]:1", back, sizeof(back));
	cr_assert_str_eq(back, "[fe80::1:2]:1");
}

Test(listen, address_alone_takes_the_default_port)
{
	char back[64];

	cr_assert_eq(parse_ok("10.1.2.3", back, sizeof(back)).port, CONFIG_METRICS_PORT);
	cr_assert_str_eq(back, "10.1.2.3:9110");
	cr_assert_eq(parse_ok("[::]", back, sizeof(back)).port, CONFIG_METRICS_PORT);
	cr_assert_str_eq(back, "[::]:9110");
}

Test(listen, every_address)
{
	char back[64];
	struct config_listen l = parse_ok(":9110", back, sizeof(back));

	cr_assert(l.on && l.any);
	cr_assert_eq(l.port, 9110);
	cr_assert_str_eq(back, "*:9110");
	l = parse_ok("*:65535", back, sizeof(back));
	cr_assert(l.any);
	cr_assert_eq(l.port, 65535);
}

Test(listen, empty_is_off)
{
	struct config_listen l = { .on = true, .port = 1 };
	char want[256];

	cr_assert(config_parse_listen("", &l, want, sizeof(want)));
	cr_assert(!l.on);
}

Test(listen, mistakes_are_refused_and_leave_the_value)
{
	static const char *bad[] = {
		"127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x", "127.0.0.1:-1",
		"127.0.0.1:+80", "localhost:9110", "256.0.0.1:9110", "1.2.3:9110", ":", "*:", "*",
		":0", "[::1]:", "[::1]9110", "[::1:9110", "[]:9110", "[1.2.3.4]:9110",
		"9110", "http://127.0.0.1:9110", "127.0.0.1:9110/metrics", " 127.0.0.1:9110",
	};
	char want[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config_listen l = { .on = true, .port = 4242 };

		want[0] = '\0';
		cr_assert(!config_parse_listen(bad[i], &l, want, sizeof(want)), "'%s' accepted", bad[i]);
		cr_assert(l.on && l.port == 4242, "'%s' changed the value though refused", bad[i]);
		cr_assert(strstr(want, "IPV4:PORT"), "'%s': no reason given: '%s'", bad[i], want);
	}
}

Test(listen, bare_ipv6_is_told_to_use_brackets)
{
	struct config_listen l;
	char want[256] = "";

	cr_assert(!config_parse_listen("::1:9110", &l, want, sizeof(want)));
	cr_assert(strstr(want, "brackets"), "no hint about brackets: %s", want);
	want[0] = '\0';
	cr_assert(!config_parse_listen("127.0.0.1:x", &l, want, sizeof(want)));
	cr_assert(!strstr(want, "brackets"), "a bracket hint for IPv4: %s", want);
}

Test(listen, the_file_and_the_option_share_the_parser)
{
	struct config cfg;
	char err[256] = "";

	config_defaults(&cfg);
	cr_assert(!cfg.metrics_listen.on, "the endpoint must be off by default");
	cr_assert(config_set(&cfg, "metrics", "listen", "[::1]:9555", err, sizeof(err)), "%s", err);
	cr_assert(cfg.metrics_listen.on && cfg.metrics_listen.port == 9555);
	cr_assert(!config_set(&cfg, "metrics", "listen", "::1", err, sizeof(err)));
	cr_assert(cfg.metrics_listen.port == 9555, "a refused value replaced the good one");
}

Test(listen, same_compares_address_and_port)
{
	struct config_listen a, b, off = { 0 };
	char want[256];

	cr_assert(config_parse_listen("127.0.0.1:9110", &a, want, sizeof(want)));
	cr_assert(config_parse_listen("127.0.0.1", &b, want, sizeof(want)));
	cr_assert(config_listen_same(&a, &b), "the default port is 9110");
	cr_assert(config_parse_listen("127.0.0.1:9111", &b, want, sizeof(want)));
	cr_assert(!config_listen_same(&a, &b));
	cr_assert(config_parse_listen("[::ffff:127.0.0.1]:9110", &b, want, sizeof(want)));
	cr_assert(!config_listen_same(&a, &b), "IPv4 and its mapped IPv6 are two sockets");
	cr_assert(config_parse_listen(":9110", &b, want, sizeof(want)));
	cr_assert(!config_listen_same(&a, &b));
	cr_assert(!config_listen_same(&a, &off));
	cr_assert(config_parse_listen("", &b, want, sizeof(want)));
	cr_assert(config_listen_same(&b, &off));
}
