// SPDX-License-Identifier: GPL-2.0
/* NT status names and errnos: the table in ntstatus.h. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "ntstatus.h"

struct ntstatus {
	uint32_t code;
	const char *name;
	int err;		/* negative errno, as cifs returns it */
};

#define S(code, name, err) { code, #name, err },

static const struct ntstatus table[] = {
	NTSTATUS_TABLE(S)
};

static const struct ntstatus *find(uint32_t status)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == status)
			return &table[i];
	return NULL;
}

const char *ntstatus_name(uint32_t status)
{
	const struct ntstatus *s = find(status);

	return s ? s->name : NULL;
}

int ntstatus_errno(uint32_t status)
{
	const struct ntstatus *s = find(status);

	return s ? s->err : -EIO;
}

int ntstatus_by_name(const char *name, uint32_t *status)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!strcmp(table[i].name, name)) {
			*status = table[i].code;
			return 0;
		}
	}
	return -1;
}
