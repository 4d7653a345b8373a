/* tcp_state.h: the kernel's TCP state numbers (include/net/tcp_states.h) by name, one table. */
#ifndef BACKLOGD_TCP_STATE_H
#define BACKLOGD_TCP_STATE_H

#include <stdint.h>

/* "ESTABLISHED", "SYN_RECV", ... as ss writes them; "?" for a number the kernel does not use. */
const char *tcp_state_name(uint8_t state);
/* "established", "syn_recv", ... as JSON keys them; "unknown" for a number the kernel does not use. */
const char *tcp_state_key(uint8_t state);

#endif
