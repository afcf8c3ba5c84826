/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands: each in its own cmd_<name>.c, given argv from its name on. */
#ifndef COMMANDS_H
#define COMMANDS_H

int cmd_events(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_latency(int argc, char **argv);
int cmd_exporter(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);

#define CIFSTRACE_VERSION "0.1"

#endif
