#!/bin/bash
# Guest test: `cifstrace run -- COMMAND` against a real cifs.ko and Samba.
#
# (a) a failing mount: the command's own exit status, its diagnosis (class
#     auth-logon-failure) on stderr, the command's output untouched;
# (b) a mount by another process at the same time is not reported;
# (c) a mount that hangs (every smbd stopped): the hung report comes while
#     mount still waits, then the end;
# (d) a good mount, --json -o FILE; (e) a command that mounts nothing says so.
. "$(dirname "$0")/lib.sh"

if start_samba; then ok "run: samba started"; else not_ok "run: samba started"; exit 1; fi
mkdir -p /mnt/run-a /mnt/run-b /mnt/run-c

# ---------------------------------------------------------------- (a) + (b)
# another process mounts with a missing share while ours runs
( sleep 2.5; mount -t cifs //127.0.0.1/nosuch /mnt/run-b -o username=alice,password=secret \
	2>/dev/null ) &
other=$!
"$CIFSTRACE" run -- sh -c 'sleep 3; mount -t cifs //127.0.0.1/data /mnt/run-a -o username=alice,password=wrong; rc=$?; echo mount-said-$rc; exit $rc' \
	>"$WORK/a.out" 2>"$WORK/a.err"
rc=$?
wait $other
[ $rc -eq 32 ] && ok "run: exits with the command's status (32, mount's)" ||
	not_ok "run: exits with the command's status (got $rc, want 32)"
grep -q '^mount-said-32$' "$WORK/a.out" && ! grep -q 'mount #' "$WORK/a.out" &&
	ok "run: the command's output stays on stdout, untouched" ||
	not_ok "run: the command's output stays on stdout, untouched"
grep -q 'FAILED  auth-logon-failure' "$WORK/a.err" && ok "run: the failed mount is explained (auth-logon-failure)" ||
	{ not_ok "run: the failed mount is explained (auth-logon-failure)"; head -5 "$WORK/a.err" | sed 's/^/#   /'; }
[ "$(grep -c '^== mount' "$WORK/a.err")" = 1 ] && ! grep -q nosuch "$WORK/a.err" &&
	ok "run: another process's mount at the same time is not reported" ||
	not_ok "run: another process's mount at the same time is not reported ($(grep -c '^== mount' "$WORK/a.err") reports)"

# ---------------------------------------------------------------- (c) hang
smbd=$(pgrep -x smbd | tr '\n' ' ')
# shellcheck disable=SC2086
kill -STOP $smbd
"$CIFSTRACE" run --hang-after 2 -- mount -t cifs //127.0.0.1/data /mnt/run-c \
	-o username=alice,password=secret >"$WORK/c.out" 2>"$WORK/c.err" &
runner=$!
hung=
for _ in $(seq 1 150); do
	grep -q 'HUNG' "$WORK/c.err" && { hung=$(now_ms); break; }
	kill -0 $runner 2>/dev/null || break
	sleep 0.1
done
still=no
kill -0 $runner 2>/dev/null && pgrep -x mount >/dev/null && still=yes
# shellcheck disable=SC2086
kill -CONT $smbd
wait $runner
rc=$?
[ -n "$hung" ] && [ $still = yes ] && ok "run: the hang is reported while mount still waits" ||
	not_ok "run: the hang is reported while mount still waits (hung '$hung', waiting $still)"
[ $rc -eq 0 ] && grep -q 'OK ' "$WORK/c.err" && ok "run: once smbd runs again the mount ends ok, exit 0" ||
	not_ok "run: once smbd runs again the mount ends ok, exit 0 (exit $rc)"
umount /mnt/run-c 2>/dev/null

# ---------------------------------------------------------------- (d) json, -o
"$CIFSTRACE" run --json -o "$WORK/d.json" -- mount -t cifs //127.0.0.1/data /mnt/run-a \
	-o username=bob,password=bobpass >"$WORK/d.out" 2>"$WORK/d.err"
rc=$?
umount /mnt/run-a 2>/dev/null
if [ $rc -eq 0 ] && jq -e -s 'length == 1 and .[0].class == "ok" and .[0].outcome == "ok"' \
	"$WORK/d.json" >/dev/null 2>&1 && [ ! -s "$WORK/d.err" ]; then
	ok "run: --json -o FILE writes one ok object, nothing on stderr"
else
	not_ok "run: --json -o FILE writes one ok object, nothing on stderr (exit $rc)"
	head -3 "$WORK/d.json" "$WORK/d.err" | sed 's/^/#   /'
fi

# ---------------------------------------------------------------- (e) nothing
"$CIFSTRACE" run -- true >/dev/null 2>"$WORK/e.err"
rc=$?
[ $rc -eq 0 ] && grep -q 'true made no mount attempt' "$WORK/e.err" &&
	ok "run: a command that mounts nothing says so, exit 0" ||
	not_ok "run: a command that mounts nothing says so (exit $rc)"
"$CIFSTRACE" run -- /nonexistent/cmd >/dev/null 2>"$WORK/f.err"
rc=$?
[ $rc -eq 127 ] && grep -q 'cannot run /nonexistent/cmd' "$WORK/f.err" &&
	ok "run: a command that cannot run: one line, exit 127" ||
	not_ok "run: a command that cannot run: one line, exit 127 (exit $rc)"

# ---------------------------------------------------------------- check
"$CIFSTRACE" check >"$WORK/check.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^  cifs BTF       ok' "$WORK/check.out" &&
	grep -q 'result: everything cifstrace needs is here' "$WORK/check.out" &&
	[ "$(grep -cE '^[A-Za-z0-9_]+ +[a-z_/]+ +ok ' "$WORK/check.out")" -ge 20 ] &&
	! grep -q ' FAILED ' "$WORK/check.out"; then
	ok "check: every piece and every hook is there, exit 0"
else
	not_ok "check: every piece and every hook is there, exit 0 (exit $rc)"
	sed 's/^/#   /' "$WORK/check.out" | head -30
fi
exit 0
