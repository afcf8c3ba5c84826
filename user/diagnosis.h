/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Diagnoses: one class per attempt from a fixed vocabulary, a summary
 * specific to what was observed, the evidence, and what to check, most
 * likely cause first. Pure: an attempt in, a diagnosis out.
 */
#ifndef DIAGNOSIS_H
#define DIAGNOSIS_H

#include "attempts.h"

#define DIAG_MAX_ITEMS	12
#define DIAG_TEXT	480

enum phase { PHASE_CONNECT, PHASE_NEGOTIATE, PHASE_SESSION, PHASE_TREE };

struct diagnosis {
	enum outcome outcome;
	enum phase phase;
	const char *class;	/* stable identifier, see README */
	const char *reason;	/* finer cause within the class, or NULL (README) */
	bool has_status;
	__u32 status;		/* the NT status behind the class */
	int err;		/* negative errno mount returned (or will), 0 if none */
	__u64 duration_ns;
	bool expired;		/* its end was never seen (see struct attempt) */
	char server[CT_HOST_LEN];
	char share[CT_UNC_LEN];
	char user[CT_NAME_LEN];
	char summary[2 * DIAG_TEXT];
	char evidence[DIAG_MAX_ITEMS][DIAG_TEXT];
	int nevidence;
	char advice[DIAG_MAX_ITEMS][DIAG_TEXT];
	int nadvice;
};

void diagnose_attempt(const struct attempt *a, enum outcome o, __u64 now_ns,
		      struct diagnosis *d);
const char *outcome_name(enum outcome o);
const char *phase_name(enum phase p);
/* Every class, for docs and tests. NULL-terminated. */
extern const char *const diagnosis_classes[];

#endif
