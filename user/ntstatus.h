/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NTSTATUS_H
#define NTSTATUS_H

#include <stdint.h>

/* "STATUS_BAD_NETWORK_NAME" for 0xC00000CC, NULL when not in the table. */
const char *ntstatus_name(uint32_t status);

/* The errno cifs maps it to (smb2maperror.c), 0 for success, -EIO default. */
int ntstatus_errno(uint32_t status);

/* Look a name up the other way (for tests and --input); 0 if found. */
int ntstatus_by_name(const char *name, uint32_t *status);

#endif
