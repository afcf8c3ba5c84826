/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PRIVILEGES_H
#define PRIVILEGES_H

/* 0 if this process may load and attach tracing programs, else prints one line and returns 1. */
int check_privileges(void);
/* The same, without the message. */
int check_privileges_quiet(void);

#endif
