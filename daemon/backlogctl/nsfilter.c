/* nsfilter.c: --netns: one namespace's share of the daemon's answer, or a clear word that there is none. */
#include "base.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "nsfilter.h"

/*
 * Whether ns (an entry's "netns", or a namespaces[] entry: the same keys)
 * is called want: its name, or its inode in decimal. An entry without one
 * comes from a daemon that watches only its own namespace: "host".
 */
static bool ns_called(const json_t *ns, const char *want)
{
	const char *name = json_string_value(json_object_get(ns, "name"));
	const json_t *inode = json_object_get(ns, "inode");
	char buf[32];

	if (!json_is_object(ns))
		return strcmp(want, "host") == 0;
	if (name && strcmp(name, want) == 0)
		return true;
	if (!json_is_integer(inode))
		return false;
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(inode));
	return strcmp(buf, want) == 0;
}

/* Return: the namespaces[] entry called want, or NULL. */
static json_t *ns_entry(const json_t *nss, const char *want)
{
	size_t i;
	json_t *x;

	json_array_foreach(nss, i, x)
		if (json_is_object(x) && ns_called(x, want))
			return x;
	return NULL;
}

/* A daemon that sends no namespaces[] watches its own only, which is "host". */
static bool ns_missing(const json_t *nss, const char *want)
{
	return json_is_array(nss) ? !ns_entry(nss, want) : strcmp(want, "host") != 0;
}

/* Say which namespaces there are when want is none of them. Return: EXIT_DAEMON_ERROR. */
static int ns_unknown(const json_t *nss, const char *want)
{
	size_t i;
	const json_t *x;
	int n = 0;

	fprintf(stderr, PROG ": no namespace %s (known: ", want);
	json_array_foreach(nss, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		const json_t *inode = json_object_get(x, "inode");

		if (name)
			fprintf(stderr, "%s%s", n++ ? ", " : "", name);
		else if (json_is_integer(inode))
			fprintf(stderr, "%s%" JSON_INTEGER_FORMAT, n++ ? ", " : "", json_integer_value(inode));
	}
	/* A daemon that sends no namespaces[] watches its own only. */
	fprintf(stderr, "%s)\n", json_is_array(nss) ? "" : "host");
	return EXIT_DAEMON_ERROR;
}

/*
 * The entries of a (an array) in namespace want, as a new array; a itself
 * (a new reference) when it is not an array. Return: NULL when out of memory.
 */
static json_t *ns_filter(json_t *a, const char *want)
{
	json_t *kept, *x;
	size_t i;

	if (!json_is_array(a))
		return json_incref(a);
	kept = json_array();
	json_array_foreach(a, i, x)
		if (kept && ns_called(json_object_get(x, "netns"), want) && json_array_append(kept, x) < 0) {
			json_decref(kept);
			return NULL;
		}
	return kept;
}

/* Replace doc's key with its entries in want; an absent key stays absent. Return: 0 or -1. */
static int ns_filter_key(json_t *doc, const char *key, const char *want)
{
	json_t *a = json_object_get(doc, key);

	if (!a)
		return 0;
	return json_object_set_new(doc, key, ns_filter(a, want));
}

/*
 * A status document cut to one namespace: its listeners, findings, gaps and
 * namespaces[] entry; its limits in place of the host's; the host counters
 * dropped unless it is the host (the counters are per namespace, and the
 * document holds only the host's); the header counts made its own.
 * Return: EXIT_OK, or the exit status after saying why.
 */
static int ns_filter_status(json_t *doc, const char *want)
{
	json_t *nss = json_object_get(doc, "namespaces");
	json_t *entry = ns_entry(nss, want);
	json_t *daemon = json_object_get(doc, "daemon");
	json_t *only;
	const char *kind;
	int rc = 0;

	if (!json_is_object(doc))
		return EXIT_OK;
	if (ns_missing(nss, want))
		return ns_unknown(nss, want);
	rc |= ns_filter_key(doc, "listeners", want);
	rc |= ns_filter_key(doc, "findings", want);
	rc |= ns_filter_key(doc, "gaps", want);
	if (entry) {
		kind = json_string_value(json_object_get(entry, "kind"));
		if (json_is_object(json_object_get(entry, "limits")))
			rc |= json_object_set(doc, "limits", json_object_get(entry, "limits"));
		if (!kind || strcmp(kind, "host") != 0)
			rc |= json_object_set_new(doc, "host", json_null());
		if (json_is_object(daemon)) {
			json_t *v = json_object_get(entry, "listeners_count");

			if (v)
				rc |= json_object_set(daemon, "listeners_count", v);
			v = json_object_get(entry, "findings_active");
			if (v)
				rc |= json_object_set(daemon, "findings_active", v);
		}
		/* namespaces[] entries carry inode and name themselves, not under "netns": keep this one. */
		only = json_array();
		if (!only || json_array_append(only, entry) < 0)
			rc = -1;
		rc |= json_object_set_new(doc, "namespaces", only);
	}
	if (rc) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_DAEMON_ERROR;
	}
	return EXIT_OK;
}

int nsfilter_lists(json_t *doc, const char *want)
{
	if (json_is_object(doc) && (ns_filter_key(doc, "listeners", want) || ns_filter_key(doc, "findings", want))) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_DAEMON_ERROR;
	}
	return EXIT_OK;
}

/*
 * Nothing of a's was in want: a namespace without any, or none of that
 * name? The daemon's status tells. Return: EXIT_OK, or the exit status
 * after saying why.
 */
static int ns_check_known(const char *socket_path, const char *want)
{
	json_t *req = json_pack("{s:s}", "command", "status"), *st = NULL;
	int status = req ? client_ask(socket_path, req, &st) : EXIT_DAEMON_ERROR;

	json_decref(req);
	if (status == EXIT_OK && ns_missing(json_object_get(st, "namespaces"), want))
		status = ns_unknown(json_object_get(st, "namespaces"), want);
	json_decref(st);
	return status;
}

/* The entries of list in want, as a new array (*kept). Return: EXIT_OK, or the exit status after saying why. */
static int select_list(const char *socket_path, const char *want, json_t *list, json_t **kept)
{
	int status;

	*kept = ns_filter(list, want);
	if (!*kept) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_DAEMON_ERROR;
	}
	if (json_is_array(*kept) && json_array_size(*kept) == 0) {
		status = ns_check_known(socket_path, want);
		if (status != EXIT_OK) {
			json_decref(*kept);
			*kept = NULL;
			return status;
		}
	}
	return EXIT_OK;
}

int nsfilter_select(const char *socket_path, const char *want, bool is_status, json_t **data)
{
	json_t *kept;
	int status;

	if (is_status)
		return ns_filter_status(*data, want);
	status = select_list(socket_path, want, *data, &kept);
	if (status != EXIT_OK)
		return status;
	json_decref(*data);
	*data = kept;
	return EXIT_OK;
}

int nsfilter_select_key(const char *socket_path, const char *want, const char *key, json_t *doc)
{
	json_t *kept;
	int status;

	if (!json_is_object(doc) || !json_object_get(doc, key))
		return EXIT_OK;
	status = select_list(socket_path, want, json_object_get(doc, key), &kept);
	if (status != EXIT_OK)
		return status;
	if (json_object_set_new(doc, key, kept) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_DAEMON_ERROR;
	}
	return EXIT_OK;
}
