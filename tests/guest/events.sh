#!/bin/bash
# Guest test: `cifstrace events --json` against a real cifs.ko and Samba.
# Each scenario runs under its own tracer, so its events are its own.
. "$(dirname "$0")/lib.sh"

if start_samba; then ok "events: samba started"; else not_ok "events: samba started"; exit 1; fi
mkdir -p /mnt/a /mnt/b

# (a) a good mount, some I/O, unmount
E=$WORK/good.jsonl
trace_start good "$E"
mount -t cifs //127.0.0.1/data /mnt/a -o username=alice,password=secret
rc=$?
echo hello >/mnt/a/hello.txt && cat /mnt/a/hello.txt >/dev/null
umount /mnt/a
trace_stop
[ $rc -eq 0 ] && ok "good: mount succeeded" || not_ok "good: mount succeeded (rc=$rc)"
check "good: mount start names the UNC and user, mount_done rc 0" "$E" \
	'any($e[]; .event=="mount" and .share=="\\\\127.0.0.1\\data" and .user=="alice" and .comm=="mount.cifs") and any($e[]; .event=="mount_done" and .rc==0 and .duration_us>0)'
check "good: SYN sent by mount.cifs, then connected" "$E" \
	'[$e[] | select(.event=="connect") | .result] == ["started","ok"] and all($e[] | select(.event=="connect"); .comm=="mount.cifs")'
check "good: TCP connect to 127.0.0.1:445 established" "$E" \
	'any($e[]; .event=="connect" and .result=="ok" and .server_addr=="127.0.0.1:445" and .duration_us>0 and .server=="127.0.0.1")'
check "good: negotiate status 0, a dialect, latency > 0" "$E" \
	'any($e[]; .event=="negotiate" and .status=="0x00000000" and .status_name=="STATUS_SUCCESS" and (.dialect|test("^[23]\\.")) and .latency_us>0 and .rc==0)'
check "good: session_setup rounds MORE_PROCESSING_REQUIRED then SUCCESS" "$E" \
	'[$e[] | select(.event=="session_setup" and .final==false) | .status] == ["0xC0000016","0x00000000"]'
check "good: session_setup names user alice, mechanism ntlmssp" "$E" \
	'all($e[] | select(.event=="session_setup"); .user=="alice" and .mechanism=="ntlmssp")'
check "good: session_setup phase ends rc 0 with a session id" "$E" \
	'any($e[]; .event=="session_setup" and .final==true and .rc==0 and .session_id>0 and .duration_us>0)'
check "good: IPC$ tree connect marked ipc" "$E" \
	'any($e[]; .event=="tree_connect" and .ipc==true and (.share|endswith("\\IPC$")))'
check "good: tree connect to \\\\127.0.0.1\\data succeeded with a tree id" "$E" \
	'any($e[]; .event=="tree_connect" and .share=="\\\\127.0.0.1\\data" and .status=="0x00000000" and .rc==0 and .tree_id>0 and .ipc==false)'
check "good: every event after the mount start names the server" "$E" \
	'all($e[] | select(.event!="mount" and .event!="mount_done"); .server=="127.0.0.1")'
check "good: mount-phase requests streamed as they were sent (NEGOTIATE .. TREE_CONNECT, CREATE)" "$E" \
	'([$e[] | select(.event=="request") | .cmd] | unique) as $c | all(["NEGOTIATE","SESSION_SETUP","TREE_CONNECT","CREATE"][]; . as $x | $c | index($x))'
check "good: every streamed request was ACKed by the server's TCP" "$E" \
	'[$e[] | select(.event=="request") | [.conn_id,.mid]] as $req
	 | [$e[] | select(.event=="ack") | [.conn_id,.mid]] as $ack
	 | ($req|length) > 5 and all($req[]; . as $r | $ack | index([$r]))'
check "good: the WRITE after the mount is one response record with its whole split" "$E" \
	'any($e[]; .event=="response" and .cmd=="WRITE" and .queue_us != null and ((.network_us != null and .server_us != null) or .network_server_us != null) and .comm != "cifsd")
	 and all($e[]; .event!="request" or .cmd!="WRITE")'
check "good: the requests of hello.txt's lookup or open name its path" "$E" \
	'any($e[]; .event=="response" and ((.path // "") | test("hello\\.txt$")))
	 and all($e[]; .event!="response" or .cmd!="WRITE" or .path == null)'
check "good: split parts add up to the latency (within 3 us of rounding)" "$E" \
	'[$e[] | select(.event=="response" and .queue_us != null and (.network_us != null or .network_server_us != null))]
	 | length > 5 and all(.[]; (.queue_us + (.network_us // 0) + (.server_us // 0) + (.network_server_us // 0) - .latency_us) | fabs <= 3)'
check "good: every response has a latency" "$E" \
	'[$e[] | select(.event=="response")] | length > 5 and all(.[]; .latency_us > 0)'
check "good: the server is never sent a reset" "$E" \
	'all($e[]; .event != "tcp_reset")'

# (b) a share that does not exist
E=$WORK/nosuch.jsonl
trace_start nosuch "$E"
out=$(mount -t cifs //127.0.0.1/nosuch /mnt/b -o username=alice,password=secret 2>&1); rc=$?
trace_stop
[ $rc -ne 0 ] && ok "nosuch: mount failed" || { not_ok "nosuch: mount failed"; umount /mnt/b; }
check "nosuch: tree_connect BAD_NETWORK_NAME with its UNC and -ENOENT" "$E" \
	'any($e[]; .event=="tree_connect" and .status=="0xC00000CC" and .status_name=="STATUS_BAD_NETWORK_NAME" and .share=="\\\\127.0.0.1\\nosuch" and .rc==-2 and .latency_us>0)'
check "nosuch: session setup still succeeded" "$E" \
	'any($e[]; .event=="session_setup" and .final==true and .rc==0)'

# (c) a wrong password
E=$WORK/badpw.jsonl
trace_start badpw "$E"
out=$(mount -t cifs //127.0.0.1/data /mnt/b -o username=alice,password=wrong 2>&1); rc=$?
trace_stop
[ $rc -ne 0 ] && ok "badpw: mount failed" || { not_ok "badpw: mount failed"; umount /mnt/b; }
check "badpw: session_setup round LOGON_FAILURE, -EACCES" "$E" \
	'any($e[]; .event=="session_setup" and .final==false and .status=="0xC000006D" and .status_name=="STATUS_LOGON_FAILURE" and .rc==-13 and .user=="alice")'
check "badpw: session_setup phase ends -EACCES" "$E" \
	'any($e[]; .event=="session_setup" and .final==true and .rc==-13)'
check "badpw: no tree connect was attempted" "$E" \
	'all($e[]; .event != "tree_connect")'
check "badpw: mount_done carries -EACCES" "$E" \
	'any($e[]; .event=="mount_done" and .rc==-13 and .rc_name=="EACCES")'
check "badpw: no password bytes in the trace" "$E" \
	'($e | tostring | test("wrong")) | not'

# (d) a port where nothing listens
E=$WORK/refused.jsonl
trace_start refused "$E"
out=$(mount -t cifs //127.0.0.1/data /mnt/b -o username=alice,password=secret,port=4455 2>&1); rc=$?
trace_stop
[ $rc -ne 0 ] && ok "refused: mount failed" || { not_ok "refused: mount failed"; umount /mnt/b; }
check "refused: connect refused on 127.0.0.1:4455 with -ECONNREFUSED" "$E" \
	'any($e[]; .event=="connect" and .result=="refused" and .server_addr=="127.0.0.1:4455" and .rc==-111 and .server=="127.0.0.1")'
check "refused: no SMB request was sent" "$E" \
	'all($e[]; .event != "request" and .event != "negotiate")'

# (e) other TCP traffic on loopback, SMB from userspace included: no events
E=$WORK/other.jsonl
trace_start other "$E"
busybox nc -l -p 8080 >/dev/null 2>&1 &
sleep 0.3
echo hello | busybox nc 127.0.0.1 8080 >/dev/null 2>&1
(exec 3<>/dev/tcp/127.0.0.1/4455) 2>/dev/null
(exec 3<>/dev/tcp/127.0.0.1/445; echo x >&3) 2>/dev/null
smbclient -L //127.0.0.1 -U alice%secret >/dev/null 2>&1
kill %1 2>/dev/null
trace_stop
check "other: unrelated TCP and userspace SMB produce no event" "$E" '$e == []'

# (f) an established mount's requests are batched (no wakeup each): they
# still reach the output while cifstrace runs, within its 200 ms poll, one
# request alone as well as a burst
mount -t cifs //127.0.0.1/data /mnt/a -o username=alice,password=secret
E=$WORK/batched.jsonl
trace_start batched "$E"
: >/mnt/a/batched-one
sleep 1.5
cp "$E" "$WORK/batched-one.jsonl"
for i in $(seq 1 200); do : >/mnt/a/batched$i; done
sleep 1.5
cp "$E" "$WORK/batched-burst.jsonl"
rm -f /mnt/a/batched*
trace_stop
umount /mnt/a
check "batched: one file's CREATE is written while cifstrace runs (1.5 s later)" "$WORK/batched-one.jsonl" \
	'any($e[]; .event=="response" and .cmd=="CREATE")'
check "batched: a burst of 200 creates is written while cifstrace runs, every CREATE" "$WORK/batched-burst.jsonl" \
	'[$e[] | select(.event=="response" and .cmd=="CREATE")] | length >= 201'

"$VM/samba-stop" >/dev/null 2>&1
exit $((FAILED > 0))
