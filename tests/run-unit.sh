#!/bin/bash
# Run cmocka unit tests with TAP output (the summary counts "ok"/"not ok").
rc=0
for t in "$@"; do
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" || rc=1
done
exit $rc
