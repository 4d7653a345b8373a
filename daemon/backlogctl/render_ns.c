/* render_ns.c: network namespaces as backlogctl names them: labels, prefixes, headings. */
#include "base.h"

#include <stdio.h>
#include <string.h>

#include "render_int.h"

bool ns_is_host(const json_t *ns)
{
	const char *kind = jget_str(ns, "kind");
	const char *name = jget_str(ns, "name");

	if (!json_is_object(ns))
		return true;
	/* The kind decides when given: a namespace someone called "host" is not ours. */
	if (kind)
		return strcmp(kind, "host") == 0;
	return !name || strcmp(name, "host") == 0;
}

bool same_ns(const json_t *a, const json_t *b)
{
	long long ia, ib;
	const char *na, *nb;

	if (!json_is_object(a) || !json_is_object(b))
		return json_is_object(a) || json_is_object(b) ? ns_is_host(a) && ns_is_host(b) : true;
	if (jget_int(a, "inode", &ia) && jget_int(b, "inode", &ib))
		return ia == ib;
	na = jget_str(a, "name");
	nb = jget_str(b, "name");
	if (na && nb)
		return strcmp(na, nb) == 0;
	return !na && !nb && ns_is_host(a) == ns_is_host(b);
}

void ns_label(char *buf, size_t len, const json_t *ns)
{
	const char *name = jget_str(ns, "name");
	long long inode;

	if (name && *name)
		copy_clean(buf, len, name);
	else if (jget_int(ns, "inode", &inode))
		snprintf(buf, len, "inode %lld", inode);
	else
		copy_clean(buf, len, json_is_object(ns) ? "?" : "host");
}

void ns_prefix(char *buf, size_t len, const json_t *ns)
{
	char label[96];

	buf[0] = '\0';
	if (ns_is_host(ns))
		return;
	ns_label(label, sizeof(label), ns);
	snprintf(buf, len, "[%s] ", label);
}

void ns_heading(char *buf, size_t len, const json_t *ns)
{
	const char *kind = jget_str(ns, "kind");
	char label[96], what[64] = "", num[40] = "";
	long long inode;

	ns_label(label, sizeof(label), ns);
	if (kind)
		copy_clean(what, sizeof(what), strcmp(kind, "host") == 0 ? "backlogd's own" : kind);
	if (jget_int(ns, "inode", &inode))
		snprintf(num, sizeof(num), "inode %lld", inode);
	if (what[0] || num[0])
		snprintf(buf, len, "namespace %s (%s%s%s)", label, what, what[0] && num[0] ? ", " : "", num);
	else
		snprintf(buf, len, "namespace %s", label);
}
