/* log.h: daemon logging in the ntpd shape; every function preserves errno. */
#ifndef BACKLOGD_LOG_H
#define BACKLOGD_LOG_H

#include <stdbool.h>

/*
 * verbose: 0 info and up, 1 debug. Messages go to stderr; when stderr is the
 * journal (JOURNAL_STREAM, as under systemd) or prefixes is set, each line
 * starts with an sd-daemon "<N>" priority prefix.
 */
void log_init(int verbose, bool prefixes);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Return: true when log lines carry "<N>" prefixes. */
bool log_prefixes(void);

#endif
