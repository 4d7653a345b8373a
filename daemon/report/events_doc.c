/* events_doc.c: the events document: what findings opened, were revised and resolved in a window, from the daemon's log. */
#include "base.h"

#include "finding_log.h"
#include "json.h"
#include "report.h"
#include "report_int.h"

/* The eBPF tier's totals for the finding's peers when it had them; else null. */
static json_t *event_clients(const struct finding_log_event *ev)
{
	json_t *o;
	int rc = 0;

	if (!ev->clients_known)
		return json_null();
	o = json_object();
	rc |= put(o, "total", ju64(ev->clients_total));
	rc |= put(o, "peers", ju64(ev->clients_peers));
	return finish(o, rc);
}

/* One event with the finding's fields as the findings document names them. */
static json_t *report_event(const struct finding_log_event *ev)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "at", jint(ev->at));
	rc |= put(o, "event", json_string(finding_event_name(ev->event)));
	rc |= put(o, "revised_from", ev->revised_from != CAUSE_NONE ?
		  json_string(cause_name(ev->revised_from)) : json_null());
	rc |= put(o, "cause", json_string(cause_name(ev->cause)));
	if (ev->cause == CAUSE_OVERFLOW_RESET)
		rc |= put(o, "underlying", json_string(cause_name(ev->underlying)));
	rc |= put(o, "severity", json_string(severity_name(ev->priority)));
	rc |= put(o, "priority", json_integer(ev->priority));
	rc |= put(o, "listener", JSTR(ev->listener));
	rc |= put(o, "subject", JSTR(ev->subject));
	rc |= put(o, "message", jstr(ev->text, sizeof(ev->text)));
	rc |= put(o, "remedy", jstr(finding_log_remedy(ev), sizeof(ev->text) - ev->remedy_off));
	rc |= put(o, "first_seen", jint(ev->first_seen));
	rc |= put(o, "clients", event_clients(ev));
	rc |= put(o, "netns", report_netns(ev->netns_inode, ev->netns_name,
					   ev->netns_kind[0] ? ev->netns_kind : NULL));
	return finish(o, rc);
}

json_t *report_finding_events(const struct finding_log *log, int64_t now, int64_t since)
{
	const struct finding_log_event *ev;
	json_t *o = json_object(), *a = json_array();
	size_t pos = 0;
	int rc = 0;

	while (a && (ev = finding_log_next(log, now - since, &pos)))
		rc |= append(a, report_event(ev));
	rc |= put(o, "now", jint(now));
	rc |= put(o, "since", jint(since));
	rc |= put(o, "from", jint(now - since));
	rc |= put(o, "kept_from", jint(finding_log_kept_from(log)));
	rc |= put(o, "capacity", ju64(log->capacity));
	rc |= put(o, "kept", ju64(log->count));
	rc |= put(o, "dropped", ju64(log->dropped));
	rc |= put(o, "lost", ju64(log->lost));
	rc |= put(o, "bytes", ju64(log->capacity * sizeof(*log->ring)));
	rc |= put(o, "events", a);
	return finish(o, rc);
}
