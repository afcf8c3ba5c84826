// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "ntstatus.h"

/* Every status named in the project's cifs reference, with cifs's errno. */
static const struct { uint32_t code; const char *name; int err; } reference[] = {
	{ 0xC000006D, "STATUS_LOGON_FAILURE", -EACCES },
	{ 0xC000006A, "STATUS_WRONG_PASSWORD", -EACCES },
	{ 0xC000006E, "STATUS_ACCOUNT_RESTRICTION", -EACCES },
	{ 0xC000006F, "STATUS_INVALID_LOGON_HOURS", -EACCES },
	{ 0xC0000070, "STATUS_INVALID_WORKSTATION", -EACCES },
	{ 0xC0000234, "STATUS_ACCOUNT_LOCKED_OUT", -EACCES },
	{ 0xC0000022, "STATUS_ACCESS_DENIED", -EACCES },
	{ 0xC00000CA, "STATUS_NETWORK_ACCESS_DENIED", -EACCES },
	{ 0xC0000071, "STATUS_PASSWORD_EXPIRED", -EKEYEXPIRED },
	{ 0xC0000193, "STATUS_ACCOUNT_EXPIRED", -EKEYEXPIRED },
	{ 0xC0000072, "STATUS_ACCOUNT_DISABLED", -EKEYREVOKED },
	{ 0xC00000CC, "STATUS_BAD_NETWORK_NAME", -ENOENT },
	{ 0xC00000BE, "STATUS_BAD_NETWORK_PATH", -EINVAL },
	{ 0xC000000D, "STATUS_INVALID_PARAMETER", -EINVAL },
	{ 0xC00000BB, "STATUS_NOT_SUPPORTED", -EOPNOTSUPP },
	{ 0xC0000002, "STATUS_NOT_IMPLEMENTED", -EOPNOTSUPP },
	{ 0xC0000016, "STATUS_MORE_PROCESSING_REQUIRED", -EIO },
	{ 0xC0000064, "STATUS_NO_SUCH_USER", -EIO },
	{ 0xC0000224, "STATUS_PASSWORD_MUST_CHANGE", -EIO },
	{ 0xC000005E, "STATUS_NO_LOGON_SERVERS", -EIO },
	{ 0xC0000133, "STATUS_TIME_DIFFERENCE_AT_DC", -EIO },
	{ 0xC000015B, "STATUS_LOGON_TYPE_NOT_GRANTED", -EIO },
	{ 0xC00000D0, "STATUS_REQUEST_NOT_ACCEPTED", -EIO },
	{ 0xC00000CE, "STATUS_TOO_MANY_SESSIONS", -EIO },
	{ 0xC000A000, "STATUS_INVALID_SIGNATURE", -EIO },
	{ 0xC0000388, "STATUS_DOWNGRADE_DETECTED", -EIO },
	{ 0xC0000203, "STATUS_USER_SESSION_DELETED", -EIO },
	{ 0xC000035C, "STATUS_NETWORK_SESSION_EXPIRED", -EIO },
	{ 0xC00000C9, "STATUS_NETWORK_NAME_DELETED", -EREMCHG },
	{ 0xC000009A, "STATUS_INSUFFICIENT_RESOURCES", -EAGAIN },
	{ 0xC00000B5, "STATUS_IO_TIMEOUT", -EAGAIN },
	{ 0xC0000466, "STATUS_SERVER_UNAVAILABLE", -EAGAIN },
	{ 0xC00000BC, "STATUS_REMOTE_NOT_LISTENING", -EHOSTDOWN },
	{ 0xC000023D, "STATUS_HOST_UNREACHABLE", -EHOSTDOWN },
	{ 0xC000023C, "STATUS_NETWORK_UNREACHABLE", -ENETUNREACH },
	{ 0xC0000257, "STATUS_PATH_NOT_COVERED", -EREMOTE },
	{ 0xC0000225, "STATUS_NOT_FOUND", -ENOENT },
	{ 0x00000000, "STATUS_SUCCESS", 0 },
};

static void every_reference_status_has_its_name(void **state)
{
	for (size_t i = 0; i < sizeof(reference) / sizeof(reference[0]); i++) {
		const char *name = ntstatus_name(reference[i].code);

		assert_non_null(name);
		assert_string_equal(name, reference[i].name);
	}
}

static void every_reference_status_maps_to_cifs_errno(void **state)
{
	for (size_t i = 0; i < sizeof(reference) / sizeof(reference[0]); i++)
		assert_int_equal(ntstatus_errno(reference[i].code), reference[i].err);
}

static void unknown_status_has_no_name_and_maps_to_eio(void **state)
{
	assert_null(ntstatus_name(0xC0DEC0DE));
	assert_int_equal(ntstatus_errno(0xC0DEC0DE), -EIO);
}

static void names_round_trip(void **state)
{
	uint32_t code = 0;

	assert_int_equal(ntstatus_by_name("STATUS_BAD_NETWORK_NAME", &code), 0);
	assert_int_equal(code, 0xC00000CC);
	assert_int_equal(ntstatus_by_name("STATUS_NO_SUCH_THING", &code), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_reference_status_has_its_name),
		cmocka_unit_test(every_reference_status_maps_to_cifs_errno),
		cmocka_unit_test(unknown_status_has_no_name_and_maps_to_eio),
		cmocka_unit_test(names_round_trip),
	};

	return cmocka_run_group_tests_name("ntstatus", tests, NULL, NULL);
}
