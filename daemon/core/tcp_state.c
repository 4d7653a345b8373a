/* tcp_state.c: the kernel's TCP state numbers named once, for sentences (ss's names) and JSON keys. */
#include "base.h"

#include "tcp_state.h"

static const struct {
	const char *name;
	const char *key;
} tcp_states[] = {
	[1] = { "ESTABLISHED", "established" },
	[2] = { "SYN_SENT", "syn_sent" },
	[3] = { "SYN_RECV", "syn_recv" },
	[4] = { "FIN_WAIT1", "fin_wait1" },
	[5] = { "FIN_WAIT2", "fin_wait2" },
	[6] = { "TIME_WAIT", "time_wait" },
	[7] = { "CLOSE", "close" },
	[8] = { "CLOSE_WAIT", "close_wait" },
	[9] = { "LAST_ACK", "last_ack" },
	[10] = { "LISTEN", "listen" },
	[11] = { "CLOSING", "closing" },
	[12] = { "NEW_SYN_RECV", "new_syn_recv" },
};

const char *tcp_state_name(uint8_t state)
{
	return state < ARRAY_SIZE(tcp_states) && tcp_states[state].name ? tcp_states[state].name : "?";
}

const char *tcp_state_key(uint8_t state)
{
	return state < ARRAY_SIZE(tcp_states) && tcp_states[state].key ? tcp_states[state].key : "unknown";
}
