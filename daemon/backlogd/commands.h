/* commands.h: what backlogctl may ask backlogd over the control socket. */
#ifndef BACKLOGD_COMMANDS_H
#define BACKLOGD_COMMANDS_H

#include <jansson.h>

/*
 * A ctl_handler: answer one request (status, listeners, findings, explain,
 * ping, metrics, events) from fleet, a struct fleet *. Read-only: no
 * request changes the daemon. Return: a new reply object.
 */
json_t *commands_answer(json_t *request, void *fleet);

#endif
