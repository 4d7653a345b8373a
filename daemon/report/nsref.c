/* nsref.c: the "netns" object that says which network namespace a listener, finding, gap or chain is about. */
#include "base.h"

#include "json.h"
#include "netns.h"
#include "report.h"
#include "report_int.h"

/* Return: {inode, name, kind}, unknown parts null. */
json_t *report_netns(uint64_t inode, const char *name, const char *kind)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "inode", inode ? ju64(inode) : json_null());
	rc |= put(o, "name", name && name[0] ? jstr(name, NETNS_NAME_MAX) : json_null());
	rc |= put(o, "kind", kind ? json_string(kind) : json_null());
	return finish(o, rc);
}

int tag_netns(json_t *o, const struct ns_ref *ns)
{
	if (!ns)
		return 0;
	if (!json_is_object(o))
		return -1;
	return put(o, "netns", report_netns(ns->inode, ns->name, ns->kind));
}

json_t *tagged(json_t *o, const struct ns_ref *ns)
{
	if (o && tag_netns(o, ns) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct ns_ref monitor_ns(const struct monitor *m)
{
	return (struct ns_ref){ .inode = m->netns_inode, .name = m->netns_name, .kind = NULL };
}

struct ns_ref member_ns(const struct fleet_member *fm)
{
	return (struct ns_ref){ .inode = fm->ns.inode, .name = fm->ns.name, .kind = netns_kind_name(fm->ns.kind) };
}
