/* nsfilter.h: --netns: one namespace out of the daemon's answer. */
#ifndef BACKLOGCTL_NSFILTER_H
#define BACKLOGCTL_NSFILTER_H

#include <jansson.h>
#include <stdbool.h>

/*
 * Keep namespace want (a name or an inode in decimal) in *data: a status
 * document when is_status, else the listeners or findings array. An array
 * with nothing there may mean a namespace without listeners or one that
 * does not exist: the daemon at socket_path is then asked for its status,
 * whose namespaces[] tells. Return: EXIT_OK, or the exit status after
 * saying why.
 */
int nsfilter_select(const char *socket_path, const char *want, bool is_status, json_t **data);

/*
 * Keep namespace want in the "listeners" and "findings" of a top document,
 * which names no namespace list to check want against. Return: EXIT_OK, or
 * the exit status after saying why.
 */
int nsfilter_lists(json_t *doc, const char *want);

/*
 * As nsfilter_select for a document that carries its list under key (the
 * events of findings --since): doc[key] keeps namespace want's entries,
 * the rest of doc stays. Return: EXIT_OK, or the exit status after saying why.
 */
int nsfilter_select_key(const char *socket_path, const char *want, const char *key, json_t *doc);

#endif
