// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace: eBPF tracer for the Linux SMB client (cifs.ko).
 * Dispatches to one subcommand per file (cmd_*.c).
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "commands.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "diagnose", cmd_diagnose, "explain each mount attempt, live or from a recording" },
	{ "run", cmd_run, "run a command (a mount) and explain its mount attempts" },
	{ "latency", cmd_latency, "where SMB time goes: histograms per share and command, slow ops" },
	{ "exporter", cmd_exporter, "serve Prometheus metrics: latency, errors, mounts by class" },
	{ "check", cmd_check, "what this kernel offers cifstrace, and what is missing" },
	{ "events", cmd_events, "print every captured event (text or JSON Lines)" },
	{ "record", cmd_record, "write the event stream to a file for diagnose --input" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: cifstrace COMMAND [OPTIONS]\n\n"
		     "Trace the Linux SMB client: connects, NEGOTIATE, SESSION_SETUP,\n"
		     "TREE_CONNECT with their NT status and timing, the TCP underneath, and\n"
		     "the latency of every request.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'cifstrace COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	argp_err_exit_status = 2;	/* usage errors: 2, as every other */
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("cifstrace %s\n", CIFSTRACE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char name[64];

		if (strcmp(argv[1], commands[i].name))
			continue;
		/* argp names the program in usage and errors: "cifstrace events" */
		snprintf(name, sizeof(name), "cifstrace %s", commands[i].name);
		argv[1] = name;
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "cifstrace: unknown command '%s' (try 'cifstrace --help')\n", argv[1]);
	return 2;
}
