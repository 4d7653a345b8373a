/* causes.c: the cause catalogue, one row per cause; every other table of causes reads this one. */
#include "base.h"

#include <stddef.h>
#include <string.h>

#include "causes.h"

/* Codes and MESSAGE_IDs are part of the interface (journal catalog, JSON, metrics): never change them. */
static const struct cause_info causes[CAUSE_COUNT] = {
	[CAUSE_BACKLOG_CLAMPED] = { "backlog-clamped", "f4f995886b7d4d8bb8c391bc6ad48794",
				    SEVERITY_WARNING, FAMILY_ACCEPT_QUEUE, SCOPE_LISTENER },
	[CAUSE_BACKLOG_SMALL] = { "backlog-small", "fabc72d41bbe4d6e9d95d63ef2a543cb",
				  SEVERITY_WARNING, FAMILY_ACCEPT_QUEUE, SCOPE_LISTENER },
	[CAUSE_SLOW_ACCEPT] = { "slow-accept", "00398cdd5b44430b87b6d20397ea6d1c",
				SEVERITY_ERR, FAMILY_ACCEPT_QUEUE, SCOPE_LISTENER },
	[CAUSE_OVERFLOW_RESET] = { "overflow-reset", "ead4b29ec0a141b0b326ad081e3af571",
				   SEVERITY_ERR, FAMILY_ACCEPT_QUEUE, SCOPE_LISTENER },
	[CAUSE_SYN_QUEUE_DROP] = { "syn-queue-drop", "d430a915dabe4802b6d238d5887b8a65",
				   SEVERITY_WARNING, FAMILY_SYN, SCOPE_LISTENER },
	[CAUSE_SYN_FLOOD] = { "syn-flood", "9ccfcc6d733c48a49f8035786d798991",
			      SEVERITY_WARNING, FAMILY_SYN, SCOPE_LISTENER },
	[CAUSE_LISTENER_GAP] = { "listener-gap", "95f02181b73f4a5a94d39ccb21365212",
				 SEVERITY_ERR, FAMILY_GAPS, SCOPE_LISTENER },
	[CAUSE_REUSEPORT_IMBALANCE] = { "reuseport-imbalance", "b37e6c99108147e4ae64f562fb67d02f",
					SEVERITY_ERR, FAMILY_GAPS, SCOPE_LISTENER },
	[CAUSE_EPHEMERAL_PORTS] = { "ephemeral-ports", "8ec28674a2d0405886a98c3e7f1d843b",
				    SEVERITY_ERR, FAMILY_HOST_LIMITS, SCOPE_DESTINATION },
	[CAUSE_TIMEWAIT_OVERFLOW] = { "timewait-overflow", "7372b3c617fc47889f7127d63d3ff3b0",
				      SEVERITY_WARNING, FAMILY_HOST_LIMITS, SCOPE_HOST },
	[CAUSE_TCP_MEMORY] = { "tcp-memory", "96ba42052ad34bb8bda36f51b899f3cb",
			       SEVERITY_ERR, FAMILY_HOST_LIMITS, SCOPE_HOST },
	[CAUSE_ORPHANS] = { "orphans", "0a52de87bdfe4acab7f99d6e64353dde",
			    SEVERITY_ERR, FAMILY_HOST_LIMITS, SCOPE_HOST },
	[CAUSE_CONNTRACK_FULL] = { "conntrack-full", "d506fbd99dfb4d46818101b5f5ad0517",
				   SEVERITY_ERR, FAMILY_HOST_LIMITS, SCOPE_HOST },
	[CAUSE_LINK_DROPS] = { "link-drops", "d13df3cb4f3d4a0cb074b71ad0cba1b2",
			       SEVERITY_WARNING, FAMILY_HOST_LIMITS, SCOPE_INTERFACE },
};

const struct cause_info *cause_info(enum cause c)
{
	/* CAUSE_NONE's row is all zeros: no code, so it is no cause. */
	if ((int)c <= (int)CAUSE_NONE || c >= CAUSE_COUNT)
		return NULL;
	return &causes[c];
}

const char *cause_code(enum cause c)
{
	const struct cause_info *ci = cause_info(c);

	return ci ? ci->code : NULL;
}

const char *cause_message_id(enum cause c)
{
	const struct cause_info *ci = cause_info(c);

	return ci ? ci->message_id : NULL;
}

enum cause_family cause_family(enum cause c)
{
	const struct cause_info *ci = cause_info(c);

	return ci ? ci->family : FAMILY_NONE;
}

enum cause cause_from_code(const char *code)
{
	int c;

	if (!code)
		return CAUSE_NONE;
	for (c = CAUSE_FIRST; c < CAUSE_COUNT; c++)
		if (strcmp(code, causes[c].code) == 0)
			return (enum cause)c;
	return CAUSE_NONE;
}

const char *scope_name(enum finding_scope s)
{
	static const char *const names[] = {
		[SCOPE_LISTENER] = "listener",
		[SCOPE_HOST] = "host",
		[SCOPE_INTERFACE] = "interface",
		[SCOPE_DESTINATION] = "destination",
	};

	/* Never NULL: callers print it. */
	if ((unsigned)s >= ARRAY_SIZE(names))
		return "unknown";
	return names[s];
}
