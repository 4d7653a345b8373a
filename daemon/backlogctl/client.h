/* client.h: backlogctl's side of the control socket: one request line out, one reply line in. */
#ifndef BACKLOGCTL_CLIENT_H
#define BACKLOGCTL_CLIENT_H

#include <jansson.h>
#include <stdio.h>

/*
 * Send request as one line to the daemon listening at path and read its
 * one-line reply, connect to last byte within a deadline.
 * Return: EXIT_OK with *data (a new reference to the reply's "data", null
 * when absent), or the exit status after saying why on stderr.
 */
int client_ask(const char *path, const json_t *request, json_t **data);

/*
 * Send client_ask()'s reasons to f instead of stderr (NULL: stderr again),
 * for a caller that owns the terminal. Return: where they went before.
 */
FILE *client_set_errors(FILE *f);

#endif
