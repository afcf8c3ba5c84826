#!/bin/bash
# Guest test: `cifstrace diagnose`, one real fault per diagnosis class.
#
# Each scenario makes its fault for real (Samba shares, users and global
# options, nftables, stopped smbd processes, Kerberos without a ticket) and
# records the mount with `cifstrace record` (attached before the mount,
# SIGINT after). Then, for each recording: its key events must be there (so
# the scenario is what it claims), and `cifstrace diagnose --input REC --json`
# must give the attempt's final object (hung objects may precede it) the
# expected outcome, class, phase, status and errno. The negotiate hang is
# also diagnosed live (--hang-after 3): its "hung" object must appear while
# the mount command still waits.
#
# Time: attaching a tracer costs ~4 s under TCG and the silent-server mount
# 22 or 43 s (the kernel waits 20 s for a NEGOTIATE reply, may retry once), so
# the offline checks of all other scenarios run during that wait.
#
# With VM_OUT set, every recording is kept as
# $VM_OUT/fixtures-<kernel>/NAME.jsonl, next to NAME.expect in the format of
# tests/fixtures (tests/run-replay.sh): the objects diagnose --input should
# print, [{outcome, class, phase, status?}], in order; hung objects are
# listed where this run's diagnose printed some, with the expected class.
#
# Run: tests/vm/run --kernel 6.1|6.12 tests/guest/diagnose.sh [NAME...]
# (NAMEs select scenarios, for debugging; default all).
. "$(dirname "$0")/lib.sh"

KV=$(uname -r | cut -d. -f1-2)
FIX=
if [ -n "${VM_OUT:-}" ]; then
	FIX=$VM_OUT/fixtures-$KV
	mkdir -p "$FIX"
fi
SMBCONF=${SAMBA_DIR:-/tmp/samba}/smb.conf
SMBPID=${SMBCONF%/*}/pid/smbd.pid
T_START=$(now_ms)
ONLY=" $* "
LATER=()

# want NAME: is scenario NAME selected? Also logs the time, as a TAP comment.
want() {
	[ "$ONLY" = "  " ] || [[ $ONLY == *" $1 "* ]] || return 1
	echo "# $(( ($(now_ms) - T_START) / 1000 )) s: $1"
}

# later CMD ARGS...: queue a check of a recording (run by run_later).
later() {
	local q
	printf -v q '%q ' "$@"
	LATER+=("$q")
}
# run_later: run the queued checks; their TAP lines go to stdout.
run_later() {
	local c
	for c in "${LATER[@]}"; do eval "$c"; done
	LATER=()
}

# ---------------------------------------------------------------------------
# Samba: one server for every scenario. Users: alice (good); bob, disabled
# for auth-account and the only user allowed on [bobonly].
# ---------------------------------------------------------------------------
cat >"$WORK/diag-shares.conf" <<'CONF'
[bobonly]
	path = /tmp/share-bob
	valid users = bob
[sealed]
	path = /tmp/share-sealed
	read only = no
	valid users = alice
	smb encrypt = required
CONF
if start_samba "$WORK/diag-shares.conf"; then
	ok "diagnose: samba started"
else
	not_ok "diagnose: samba started"
	exit 1
fi
mkdir -p /mnt/d1 /mnt/d2
GOOD=username=alice,password=secret

# samba_global 'OPTION = VALUE': add a [global] option and reload smbd
# (SIGHUP; new connections get the new setting). samba_global_reset: drop
# the added options again.
samba_global() {
	printf '[global] # diagnose.sh\n\t%s\n' "$1" >>"$SMBCONF"
	kill -HUP "$(cat "$SMBPID")"
	sleep 1
}
samba_global_reset() {
	sed -i '/^\[global\] # diagnose.sh$/,$d' "$SMBCONF"
	kill -HUP "$(cat "$SMBPID")"
	sleep 1
}

# ---------------------------------------------------------------------------
# Scenarios. Each records now; its checks are queued with `later`.
# ---------------------------------------------------------------------------

# ok: a good mount, unmounted.
if want ok; then
	record ok //127.0.0.1/data /mnt/d1 "$GOOD"
	expect_errno ok 0
	later check "ok: recording has TREE_CONNECT to data with STATUS_SUCCESS, mount_done 0" "$REC" \
		'any($e[]; .event=="tree_connect" and .share=="\\\\127.0.0.1\\data" and .status=="0x00000000") and any($e[]; .event=="mount_done" and .rc==0)'
	later expect_attempts ok "ok ok tree_connect none -"
fi

# signing-failure: the server requires signing ('server signing =
# mandatory'), the client may not sign (bit 0x1 cleared in
# /proc/fs/cifs/SecurityFlags): cifs refuses the NEGOTIATE reply.
if want signing-failure; then
	samba_global 'server signing = mandatory'
	flags=$(cat /proc/fs/cifs/SecurityFlags)
	printf '0x%x\n' $((flags & ~1)) >/proc/fs/cifs/SecurityFlags
	record signing-failure //127.0.0.1/data /mnt/d1 "$GOOD"
	echo "$flags" >/proc/fs/cifs/SecurityFlags
	samba_global_reset
	# 5.10 returns the kernel-internal ENOTSUPP (524), later ones EOPNOTSUPP
	e=95
	case $(uname -r) in 5.10.*) e=524 ;; esac
	expect_errno signing-failure $e
	later check "signing-failure: recording has the NEGOTIATE reply with signing required, rc -$e" "$REC" \
		"any(\$e[]; .event==\"negotiate\" and .signing_required==true and .rc==-$e)"
	later expect_attempts signing-failure "failed signing-failure negotiate none -$e"
fi

# connect-refused: nothing listens on port 4455.
if want connect-refused; then
	record connect-refused //127.0.0.1/data /mnt/d1 "$GOOD,port=4455"
	expect_errno connect-refused 111
	later check "connect-refused: recording has the refused connect (-ECONNREFUSED)" "$REC" \
		'any($e[]; .event=="connect" and .result=="refused" and .rc==-111)'
	later expect_attempts connect-refused "failed connect-refused connect none -111"
fi

# tree-bad-network-name: the share does not exist.
if want tree-bad-network-name; then
	record tree-bad-network-name //127.0.0.1/nosuch /mnt/d1 "$GOOD"
	expect_errno tree-bad-network-name 2
	later check "tree-bad-network-name: recording has TREE_CONNECT BAD_NETWORK_NAME" "$REC" \
		'any($e[]; .event=="tree_connect" and .status=="0xC00000CC" and .rc==-2)'
	later expect_attempts tree-bad-network-name "failed tree-bad-network-name tree_connect 0xC00000CC -2"
fi

# auth-logon-failure: a wrong password.
if want auth-logon-failure; then
	record auth-logon-failure //127.0.0.1/data /mnt/d1 username=alice,password=wrong
	expect_errno auth-logon-failure 13
	later check "auth-logon-failure: recording has SESSION_SETUP LOGON_FAILURE" "$REC" \
		'any($e[]; .event=="session_setup" and .status=="0xC000006D" and .rc==-13)'
	later expect_attempts auth-logon-failure "failed auth-logon-failure session_setup 0xC000006D -13"
fi

# auth-account: a disabled account (smbpasswd -d): STATUS_ACCOUNT_DISABLED,
# -EKEYREVOKED. (A locked account, pdbedit -c '[L]', gives
# STATUS_ACCOUNT_LOCKED_OUT and -EACCES.)
if want auth-account; then
	smbpasswd -c "$SMBCONF" -d bob >/dev/null
	record auth-account //127.0.0.1/data /mnt/d1 username=bob,password=bobpass
	smbpasswd -c "$SMBCONF" -e bob >/dev/null
	expect_errno auth-account 128
	later check "auth-account: recording has SESSION_SETUP ACCOUNT_DISABLED" "$REC" \
		'any($e[]; .event=="session_setup" and .status=="0xC0000072" and .rc==-128)'
	later expect_attempts auth-account "failed auth-account session_setup 0xC0000072 -128"
fi

# auth-kerberos: sec=krb5 without a ticket; the cifs.spnego upcall
# (cifs.upcall, through /etc/request-key.d/cifs.spnego.conf) fails.
if want auth-kerberos; then
	record auth-kerberos //127.0.0.1/data /mnt/d1 sec=krb5
	expect_errno auth-kerberos 126
	later check "auth-kerberos: recording has the failed upcall (-ENOKEY), no SESSION_SETUP sent" "$REC" \
		'any($e[]; .event=="upcall" and .rc==-126) and all($e[]; .event!="request" or .cmd!="SESSION_SETUP")'
	later expect_attempts auth-kerberos "failed auth-kerberos session_setup none -126 no-ticket"
fi

# tree-access-denied: [bobonly] has valid users = bob; alice is refused.
if want tree-access-denied; then
	record tree-access-denied //127.0.0.1/bobonly /mnt/d1 "$GOOD"
	expect_errno tree-access-denied 13
	later check "tree-access-denied: recording has TREE_CONNECT ACCESS_DENIED on bobonly" "$REC" \
		'any($e[]; .event=="tree_connect" and .status=="0xC0000022" and (.share|endswith("\\bobonly")))'
	later expect_attempts tree-access-denied "failed tree-access-denied tree_connect 0xC0000022 -13"
fi

# tree-encryption-required: [sealed] has smb encrypt = required; SMB 2.1
# cannot encrypt. The same share mounts with SMB 3.1.1 (ok-encrypted).
if want tree-encryption-required; then
	record tree-encryption-required //127.0.0.1/sealed /mnt/d1 "$GOOD,vers=2.1"
	expect_errno tree-encryption-required 13
	later check "tree-encryption-required: recording has dialect 2.1, TREE_CONNECT ACCESS_DENIED" "$REC" \
		'any($e[]; .event=="negotiate" and .dialect=="2.1") and any($e[]; .event=="tree_connect" and .status=="0xC0000022" and (.share|endswith("\\sealed")))'
	later expect_attempts tree-encryption-required "failed tree-encryption-required tree_connect 0xC0000022 -13"
fi
if want ok-encrypted; then
	record ok-encrypted //127.0.0.1/sealed /mnt/d1 "$GOOD,vers=3.1.1"
	expect_errno ok-encrypted 0
	later check "ok-encrypted: recording has dialect 3.1.1 and the sealed share connected" "$REC" \
		'any($e[]; .event=="negotiate" and .dialect=="3.1.1") and any($e[]; .event=="tree_connect" and .status=="0x00000000" and (.share|endswith("\\sealed")))'
	later expect_attempts ok-encrypted "ok ok tree_connect none -"
fi

# The same two refusals on a second share of a server: the mount reuses
# the first one's connection and session, so its attempt has no NEGOTIATE
# and the connection's dialect comes with the TREE_CONNECT record (before
# it did, an SMB 3.1.1 connection's refusal was called required
# encryption). The first mount is made untraced and left mounted.
reused() {
	local name=$1 unc=$2 opts=$3 dialect=$4 class=$5
	if ! mount -t cifs //127.0.0.1/data /mnt/d2 -o "$opts" 2>"$WORK/$name.first"; then
		not_ok "$name: the first share mounted"
		sed 's/^/#   /' "$WORK/$name.first"
		return
	fi
	record "$name" "$unc" /mnt/d1 "$opts"
	umount /mnt/d2
	expect_errno "$name" 13
	later check "$name: recording has no NEGOTIATE; TREE_CONNECT ACCESS_DENIED with the connection's dialect $dialect" "$REC" \
		"all(\$e[]; .event!=\"negotiate\" and .event!=\"session_setup\") and any(\$e[]; .event==\"tree_connect\" and .status==\"0xC0000022\" and .dialect==\"$dialect\")"
	later expect_attempts "$name" "failed $class tree_connect 0xC0000022 -13"
}
if want tree-access-denied-reused; then
	reused tree-access-denied-reused //127.0.0.1/bobonly "$GOOD" 3.1.1 tree-access-denied
fi
if want tree-encryption-required-reused; then
	reused tree-encryption-required-reused //127.0.0.1/sealed "$GOOD,vers=2.1" 2.1 \
		tree-encryption-required
fi

# A path inside the share (//server/share/dir): the share connects, then
# the server refuses the lookup of the path: a directory that does not
# exist, and one its user may not enter (mode 000 on the server). The first
# is also diagnosed live, through `cifstrace run`, which attaches no path
# hooks: the class must come from the CREATE's status alone.
if want tree-path-not-found; then
	record tree-path-not-found //127.0.0.1/data/nosuchdir /mnt/d1 "$GOOD"
	expect_errno tree-path-not-found 2
	# its path where a tracepoint gives it (the compound's is 6.1 on)
	p='.path=="\\nosuchdir"'
	[ "$KV" != 5.10 ] || p='.path==null'
	later check "tree-path-not-found: recording has TREE_CONNECT ok, then CREATE OBJECT_NAME_NOT_FOUND ($p)" "$REC" \
		'any($e[]; .event=="tree_connect" and .status=="0x00000000" and (.share|endswith("\\data"))) and any($e[]; .event=="response" and .cmd=="CREATE" and .status=="0xC0000034" and '"$p"')'
	later expect_attempts tree-path-not-found "failed tree-path-not-found tree_connect 0xC0000034 -2"
	# the mount's source, in its done record: it names the path when no hook does
	later check "tree-path-not-found: recording's mount_done carries the source //127.0.0.1/data/nosuchdir" "$REC" \
		'any($e[]; .event=="mount_done" and .source=="//127.0.0.1/data/nosuchdir")'
	"$CIFSTRACE" run -- mount -t cifs //127.0.0.1/data/nosuchdir /mnt/d1 -o "$GOOD" \
		>/dev/null 2>"$WORK/path-run.err"
	if grep -q "FAILED  tree-path-not-found" "$WORK/path-run.err" &&
	   grep -q "but '/nosuchdir' inside it does not exist" "$WORK/path-run.err"; then
		ok "tree-path-not-found: live (cifstrace run, no path hooks) gives the same class, the path named from the mount's source"
	else
		not_ok "tree-path-not-found: live (cifstrace run, no path hooks) gives the same class, the path named from the mount's source"
		grep -E "FAILED|diagnosis|inside it" "$WORK/path-run.err" | head -3 | sed 's/^/#   /'
	fi
fi
if want tree-path-access-denied; then
	mkdir -p /tmp/share-data/locked/x
	chmod 000 /tmp/share-data/locked
	record tree-path-access-denied //127.0.0.1/data/locked/x /mnt/d1 "$GOOD"
	chmod 755 /tmp/share-data/locked
	expect_errno tree-path-access-denied 13
	later check "tree-path-access-denied: recording has TREE_CONNECT ok, then CREATE ACCESS_DENIED" "$REC" \
		'any($e[]; .event=="tree_connect" and .status=="0x00000000" and (.share|endswith("\\data"))) and any($e[]; .event=="response" and .cmd=="CREATE" and .status=="0xC0000022")'
	later expect_attempts tree-path-access-denied "failed tree-path-access-denied tree_connect 0xC0000022 -13"
fi

# SMB1 (vers=1.0): cifs traces no SMB1 request, so past TCP only the
# errno is known; the diagnosis must say so (class unknown, with what the
# errno means from SMB1) instead of reading the untraced steps as a server
# that dropped the connection. Refused by the server (Samba's default
# minimum is SMB 2.0.2): negotiate-rejected. Against a server that allows
# SMB1: a good mount and a wrong password.
if want smb1-refused; then
	record smb1-refused //127.0.0.1/data /mnt/d1 "$GOOD,vers=1.0"
	expect_errno smb1-refused 95
	later check "smb1-refused: recording has the mount's vers 1.0 and no SMB2 NEGOTIATE" "$REC" \
		'any($e[]; .event=="mount" and .vers=="1.0") and all($e[]; .event!="request")'
	later expect_attempts smb1-refused "failed negotiate-rejected negotiate none -95"
fi
if want smb1; then
	samba_global 'server min protocol = NT1'
	record smb1-ok //127.0.0.1/data /mnt/d1 "$GOOD,vers=1.0"
	expect_errno smb1-ok 0
	later check "smb1-ok: recording has the mount's vers 1.0" "$REC" \
		'any($e[]; .event=="mount" and .vers=="1.0")'
	later expect_attempts smb1-ok "ok ok tree_connect none -"
	record smb1-logon //127.0.0.1/data /mnt/d1 "username=alice,password=wrong,vers=1.0"
	samba_global_reset
	expect_errno smb1-logon 13
	later expect_attempts smb1-logon "failed unknown negotiate none -13"
	later check "smb1-logon: the diagnosis says SMB1 is not traced and what EACCES means from it" \
		"$WORK/smb1-logon.diag.jsonl" \
		'any($e[]; .class=="unknown" and (.summary|test("asked for SMB1 \\(vers=1.0\\) and failed with EACCES: from SMB1 that is usually wrong credentials")))'
fi

# tree-encryption-unavailable: the mount asks for encryption (seal), the
# server offers none ('server smb encrypt = off'): cifs refuses the share
# itself, with no TREE_CONNECT sent.
if want tree-encryption-unavailable; then
	samba_global 'server smb encrypt = off'
	record tree-encryption-unavailable //127.0.0.1/data /mnt/d1 "$GOOD,seal"
	samba_global_reset
	expect_errno tree-encryption-unavailable 95
	later check "tree-encryption-unavailable: recording has the mount's seal, NEGOTIATE without encryption, no TREE_CONNECT to data" "$REC" \
		'any($e[]; .event=="mount" and .seal==true) and any($e[]; .event=="negotiate" and .encryption_capable==false) and all($e[]; .event!="tree_connect" or .ipc)'
	later expect_attempts tree-encryption-unavailable "failed tree-encryption-unavailable tree_connect none -95"
fi

# negotiate-rejected: the server speaks at most SMB 2.0.2, the client only
# 3.1.1: NEGOTIATE is answered STATUS_NOT_SUPPORTED.
if want negotiate-rejected; then
	samba_global 'server max protocol = SMB2_02'
	record negotiate-rejected //127.0.0.1/data /mnt/d1 "$GOOD,vers=3.1.1"
	samba_global_reset
	expect_errno negotiate-rejected 95
	later check "negotiate-rejected: recording has NEGOTIATE STATUS_NOT_SUPPORTED" "$REC" \
		'any($e[]; .event=="negotiate" and .status=="0xC00000BB" and .rc==-95)'
	later expect_attempts negotiate-rejected "failed negotiate-rejected negotiate 0xC00000BB -95"
fi

# negotiate-closed: hosts deny = 127.0.0.1; smbd drops the connection (a
# reset reaches the client) without answering NEGOTIATE. Samba always lets
# 127.0.0.1 in unless it is denied by name: hosts allow = 10.9.9.9 alone
# does not do it. 7.3 reads what smbd sends first, a NetBIOS negative
# session response ("Server rejected NetBIOS clientname" in dmesg),
# reconnects at once and fails with EACCES: no FIN or RST before the
# reconnect, which is then the evidence.
if want negotiate-closed; then
	samba_global 'hosts deny = 127.0.0.1'
	record negotiate-closed //127.0.0.1/data /mnt/d1 "$GOOD"
	samba_global_reset
	e=112
	[ "$KV" != 7.3 ] || e=13
	expect_errno negotiate-closed $e
	later check "negotiate-closed: recording has a NEGOTIATE request, a reset, FIN or reconnect, no NEGOTIATE response" "$REC" \
		'any($e[]; .event=="request" and .cmd=="NEGOTIATE") and any($e[]; .event=="tcp_reset" or .event=="tcp_fin" or .event=="reconnect") and all($e[]; .event!="response" or .cmd!="NEGOTIATE")'
	later expect_attempts negotiate-closed "failed negotiate-closed negotiate none -$e"
fi

# auth-access-denied: the server requires encryption for every session
# (smb encrypt = required in [global]); SMB 2.1 cannot encrypt, so
# SESSION_SETUP is refused with STATUS_ACCESS_DENIED (with [sealed] alone it
# is the tree connect that is refused: tree-encryption-required).
if want auth-access-denied; then
	samba_global 'smb encrypt = required'
	record auth-access-denied //127.0.0.1/data /mnt/d1 "$GOOD,vers=2.1"
	samba_global_reset
	expect_errno auth-access-denied 13
	later check "auth-access-denied: recording has dialect 2.1, SESSION_SETUP ACCESS_DENIED" "$REC" \
		'any($e[]; .event=="negotiate" and .dialect=="2.1") and any($e[]; .event=="session_setup" and .status=="0xC0000022")'
	later expect_attempts auth-access-denied "failed auth-access-denied session_setup 0xC0000022 -13"
fi

# connect-unreachable: nftables answers every packet to 127.0.0.3 with ICMP
# host unreachable, as a router with no route would (cifs tries port 445,
# then 139: both unreachable).
if want connect-unreachable; then
	nft add table inet ctunreach
	nft add chain inet ctunreach out '{ type filter hook output priority 0; }'
	nft add rule inet ctunreach out ip daddr 127.0.0.3 reject with icmp type host-unreachable
	record connect-unreachable //127.0.0.3/data /mnt/d1 "$GOOD"
	nft delete table inet ctunreach
	expect_errno connect-unreachable 113
	later check "connect-unreachable: recording has the connect failing with -EHOSTUNREACH" "$REC" \
		'any($e[]; .event=="connect" and .rc==-113)'
	later expect_attempts connect-unreachable "failed connect-unreachable connect none -113"
fi

# held NAME COMMAND NTH: tests/vm/smbproxy between mount and Samba holds the
# server's NTH response to COMMAND (the server's TCP ACKs the request, SMB
# never answers); after 8 s the mount is killed, as an impatient user would.
held() {
	"$VM/smbproxy" --listen 4450 --command "$2" --nth "$3" --action hold 2>"$WORK/$1.proxy" &
	local proxy=$!
	for _ in $(seq 1 50); do grep -q listening "$WORK/$1.proxy" && break; sleep 0.1; done
	REC=$WORK/$1.jsonl
	record_start "$1" "$REC"
	timeout -s KILL 8 mount -t cifs //127.0.0.1/data /mnt/d1 -o "$GOOD,port=4450" >/dev/null 2>&1
	trace_stop
	kill $proxy
	wait $proxy 2>/dev/null
	umount /mnt/d1 2>/dev/null
	keep "$1"
}
# auth-no-response: the first SESSION_SETUP response is held.
if want auth-no-response; then
	held auth-no-response SESSION_SETUP 1
	later check "auth-no-response: recording has SESSION_SETUP sent and ACKed, never answered" "$REC" \
		'any($e[]; .event=="ack" and .cmd=="SESSION_SETUP") and all($e[]; .event!="response" or .cmd!="SESSION_SETUP")'
	later expect_attempts auth-no-response "failed auth-no-response session_setup none -"
fi
# tree-no-response: the second TREE_CONNECT response (the share's; the
# first is IPC$) is held.
if want tree-no-response; then
	held tree-no-response TREE_CONNECT 2
	later check "tree-no-response: recording has the share's TREE_CONNECT sent and ACKed, never answered" "$REC" \
		'[$e[] | select(.event=="ack" and .cmd=="TREE_CONNECT")] | length == 2'
	later expect_attempts tree-no-response "failed tree-no-response tree_connect none -"
fi

# tree-no-response after the TREE_CONNECT: the first CREATE (the lookup of
# the mount's root in the share) is held.
if want tree-path-no-response; then
	held tree-path-no-response CREATE 1
	later check "tree-path-no-response: recording has the share's TREE_CONNECT answered, a CREATE sent and ACKed, never answered" "$REC" \
		'any($e[]; .event=="tree_connect" and .status=="0x00000000" and (.share|endswith("\\data"))) and any($e[]; .event=="ack" and .cmd=="CREATE") and all($e[]; .event!="response" or .cmd!="CREATE")'
	later expect_attempts tree-path-no-response "failed tree-no-response tree_connect none -"
fi

# connection-closed: a share mounted through smbproxy, which cuts the
# connection (closes both sides) at the first QUERY_DIRECTORY answer, an
# ls: the client sees the FIN, reconnects through the proxy, comes back.
if want connection-closed; then
	name=connection-closed
	REC=$WORK/$name.jsonl
	"$VM/smbproxy" --listen 4451 --command QUERY_DIRECTORY --nth 1 --action cut \
		2>"$WORK/$name.proxy" &
	proxy=$!
	for _ in $(seq 1 50); do grep -q listening "$WORK/$name.proxy" && break; sleep 0.1; done
	mkdir -p /mnt/d3
	if timeout 30 mount -t cifs //127.0.0.1/data /mnt/d3 -o "$GOOD,port=4451" >/dev/null 2>&1; then
		record_start "$name" "$REC"
		timeout 60 ls /mnt/d3 >/dev/null 2>&1
		for _ in $(seq 1 100); do
			grep -q '"event":"tree_connect"' "$REC" && break
			sleep 0.2
		done
		timeout 30 ls /mnt/d3 >/dev/null 2>&1
		trace_stop
		umount -l /mnt/d3
		keep "$name"
		check "$name: recording has the FIN from the proxy's side, then the reconnect" "$REC" \
			'([$e[] | .event] | index("tcp_fin")) as $f | ([$e[] | .event] | index("reconnect")) as $r
			 | $f != null and $r != null and $f < $r'
		"$CIFSTRACE" diagnose --input "$REC" --json >"$WORK/$name.diag.jsonl" 2>&1
		check "$name: diagnosed connection-closed (FIN received), then back with the time the share was unavailable" \
			"$WORK/$name.diag.jsonl" \
			'any($e[]; .kind=="reconnect" and .outcome=="failed" and .class=="connection-closed" and (.summary|test("FIN received")))
			 and any($e[]; .kind=="reconnect" and .outcome=="ok" and .class=="connection-closed" and (.summary|test("came back .* was unavailable for")))'
		[ -z "$FIX" ] || jq -c -s '[.[] | {outcome, class, phase}]' "$WORK/$name.diag.jsonl" >"$FIX/$name.expect"
	else
		not_ok "$name: mount //127.0.0.1/data through the proxy"
	fi
	kill $proxy
	wait $proxy 2>/dev/null
fi

# concurrent: two mounts started at once, a wrong password and a missing
# share. (cifs serializes mount(2) calls on its cifs_mount_mutex, so the
# kernel runs them one after the other, in either order; the cifsd thread of
# the first can still be at work while the second starts.)
# shellcheck disable=SC2317
check_concurrent() {
	local diag=$WORK/concurrent.diag.jsonl specs=() share
	"$CIFSTRACE" diagnose --input "$WORK/concurrent.jsonl" --json >"$diag" 2>"$diag.err"
	# Expected classes in the order the attempts started (either order).
	for share in $(jq -r -s 'group_by(.attempt)[] | last | .share | split("\\") | last' "$diag"); do
		case $share in
		nosuch) specs+=("failed tree-bad-network-name tree_connect 0xC00000CC -2") ;;
		*) specs+=("failed auth-logon-failure session_setup 0xC000006D -13") ;;
		esac
	done
	[ ${#specs[@]} -eq 2 ] || specs=("failed auth-logon-failure session_setup 0xC000006D -13"
		"failed tree-bad-network-name tree_connect 0xC00000CC -2")
	expect_attempts concurrent "${specs[@]}"
	if jq -e -s '[group_by(.attempt)[] | last] as $a
		| ($a | length) == 2 and ($a | map(.pid) | unique | length) == 2
		and any($a[]; .class == "auth-logon-failure" and .share == "\\\\127.0.0.1\\data")
		and any($a[]; .class == "tree-bad-network-name" and .share == "\\\\127.0.0.1\\nosuch")' \
		"$diag" >/dev/null 2>&1; then
		ok "concurrent: the two attempts have their own pid, share and class"
	else
		not_ok "concurrent: the two attempts have their own pid, share and class"
		dump_diag "$diag"
	fi
}
if want concurrent; then
	REC=$WORK/concurrent.jsonl
	record_start concurrent "$REC"
	mount -t cifs //127.0.0.1/data /mnt/d1 -o username=alice,password=wrong >"$WORK/c1.out" 2>&1 &
	m1=$!
	mount -t cifs //127.0.0.1/nosuch /mnt/d2 -o "$GOOD" >"$WORK/c2.out" 2>&1 &
	m2=$!
	both=0
	kill -0 $m1 2>/dev/null && kill -0 $m2 2>/dev/null && both=1
	wait $m1; r1=$?
	wait $m2; r2=$?
	trace_stop
	keep concurrent
	mountpoint -q /mnt/d1 && umount /mnt/d1
	mountpoint -q /mnt/d2 && umount /mnt/d2
	mount_result "$WORK/c1.out"; e1=$MERR
	mount_result "$WORK/c2.out"; e2=$MERR
	if [ "$e1" = 13 ] && [ "$e2" = 2 ] && [ $both = 1 ]; then
		ok "concurrent: both mounts running at once, failing with error(13) and error(2)"
	else
		not_ok "concurrent: both mounts running at once (${both}), failing with error(13) and error(2) (got error($e1), exit $r1 and error($e2), exit $r2)"
	fi
	later check "concurrent: recording has two mounts by two processes, each with its mount_done" "$REC" \
		'[$e[] | select(.event=="mount") | .pid] as $m | [$e[] | select(.event=="mount_done") | .pid] as $d
		 | ($m|length)==2 and ($m|unique|length)==2 and ($d|sort)==($m|sort)'
	later check_concurrent
fi

# connect-timeout: nftables drops the SYNs to port 4456; the kernel gives up
# after the socket's 5 s send timeout (-EINPROGRESS).
if want connect-timeout; then
	if nft add table inet cifstrace_test &&
		nft add chain inet cifstrace_test in '{ type filter hook input priority 0; }' &&
		nft add rule inet cifstrace_test in tcp dport 4456 drop; then
		:
	else
		not_ok "connect-timeout: nftables rule to drop SYNs to port 4456"
	fi
	record connect-timeout //127.0.0.1/data /mnt/d1 "$GOOD,port=4456"
	nft delete table inet cifstrace_test
	expect_errno connect-timeout 115
	later check "connect-timeout: recording has SYN retransmits and a connect timeout" "$REC" \
		'any($e[]; .event=="tcp_retransmit" and .state=="SYN_SENT") and any($e[]; .event=="connect" and .result=="timeout")'
	later expect_attempts connect-timeout "failed connect-timeout connect none -115"
fi

# negotiate-no-response: every smbd stopped (kill -STOP). TCP still accepts
# (the listening socket's backlog) and ACKs the NEGOTIATE (checked with ss),
# which is never answered. After 20 s of silence (checked every 7 s) the
# kernel reconnects; if the new socket is up before the mount sees the
# failure it sends NEGOTIATE once more, so the mount fails after ~22 s or
# ~43 s, a race (echo_interval=1 does not shorten either). Recorded, and
# diagnosed live at the same time: the "hung" object must be written while
# mount still waits. The queued checks of the other scenarios run meanwhile.
if want negotiate-no-response; then
	name=negotiate-no-response
	REC=$WORK/$name.jsonl
	LIVE=$WORK/$name.live.jsonl
	smbd=$(pgrep -x smbd)
	# shellcheck disable=SC2086
	kill -STOP $smbd
	"$CIFSTRACE" diagnose --json --hang-after 3 >"$LIVE" 2>"$LIVE.err" &
	live_pid=$!
	record_start "$name" "$REC"
	for _ in $(seq 1 300); do
		grep -q "tracing the SMB client" "$LIVE.err" 2>/dev/null && break
		kill -0 $live_pid 2>/dev/null || break
		sleep 0.1
	done
	t0=$(now_ms)
	# 5.10 has no in-negotiate timeout: its mount waits until killed
	# (checked: still waiting after 150 s), so there it is killed at 30 s.
	old_kernel=0 limit=()
	case $(uname -r) in 5.10.*) old_kernel=1; limit=(timeout 30) ;; esac
	"${limit[@]}" mount -t cifs //127.0.0.1/data /mnt/d1 -o "$GOOD,echo_interval=1" \
		>"$WORK/$name.out" 2>&1 &
	mpid=$!
	run_later >"$WORK/later.tap" 2>&1 &
	later_pid=$!
	LATER=()
	hung_ms='' hung_while_mounting=0
	while kill -0 $mpid 2>/dev/null; do
		if [ -z "$hung_ms" ]; then
			while IFS= read -r line; do
				if [[ $line == *'"outcome":"hung"'* ]]; then
					hung_ms=$(($(now_ms) - t0))
					kill -0 $mpid 2>/dev/null && hung_while_mounting=1
					# What the client's TCP knows: was NEGOTIATE ACKed?
					ss -tni state established '( dport = :445 )' >"$WORK/$name.ss" 2>&1
					break
				fi
			done <"$LIVE"
		fi
		sleep 0.2
	done
	wait $mpid
	MMS=$(($(now_ms) - t0))
	# shellcheck disable=SC2086
	kill -CONT $smbd
	mount_result "$WORK/$name.out"
	mountpoint -q /mnt/d1 && { MERR=0; umount /mnt/d1; }
	trace_stop
	kill -INT $live_pid
	wait $live_pid
	live_rc=$?
	keep "$name"
	wait $later_pid
	cat "$WORK/later.tap"
	FAILED=$((FAILED + $(grep -c '^not ok' "$WORK/later.tap")))

	if [ $old_kernel = 1 ]; then
		# killed: mount(2) is interrupted (ERESTARTSYS, -512 inside the kernel)
		[ "$MMS" -ge 29000 ] && ok "$name: 5.10: mount still waiting at 30 s, killed (${MMS} ms)" ||
			not_ok "$name: 5.10: mount still waiting at 30 s (returned after ${MMS} ms)"
		errno=-512
		check "$name: recording has NEGOTIATE requests, no response" "$REC" \
			'any($e[]; .event=="request" and .cmd=="NEGOTIATE") and all($e[]; .event!="response")'
	else
		expect_errno "$name" 112
		errno=-112
		check "$name: recording has NEGOTIATE requests, no response, reconnects" "$REC" \
			'any($e[]; .event=="request" and .cmd=="NEGOTIATE") and all($e[]; .event!="response") and any($e[]; .event=="reconnect")'
	fi
	sent=$(grep -o 'bytes_sent:[0-9]*' "$WORK/$name.ss" | head -n 1 | cut -d: -f2)
	acked=$(grep -o 'bytes_acked:[0-9]*' "$WORK/$name.ss" | head -n 1 | cut -d: -f2)
	if [ -n "$sent" ] && [ -n "$acked" ] && [ "$acked" -gt "$sent" ]; then
		ok "$name: the server's TCP ACKed the NEGOTIATE (ss: bytes_sent $sent, bytes_acked $acked)"
	else
		not_ok "$name: the server's TCP ACKed the NEGOTIATE (ss: bytes_sent ${sent:-?}, bytes_acked ${acked:-?})"
	fi
	check "$name: recording has the TCP ACK of the NEGOTIATE (server's TCP up, SMB silent)" "$REC" \
		'any($e[]; .event=="ack" and .cmd=="NEGOTIATE")'
	expect_attempts "$name" "failed negotiate-no-response negotiate none $errno"
	if [ $live_rc -eq 0 ]; then ok "$name: live diagnose exited 0 on SIGINT"
	else not_ok "$name: live diagnose exited 0 on SIGINT (exit $live_rc)"; fi
	if [ "$hung_while_mounting" = 1 ]; then
		ok "$name: live 'hung' object written ${hung_ms} ms after mount started, before mount returned (${MMS} ms)"
	else
		not_ok "$name: live 'hung' object written before mount returned (hung at ${hung_ms:-never} ms, mount returned at ${MMS} ms)"
		grep -v libbpf "$LIVE.err" | tail -n 3 | sed 's/^/#   stderr: /'
	fi
	check "$name: live hung object: class negotiate-no-response, phase negotiate, share data" "$LIVE" \
		'any($e[]; .outcome=="hung" and .class=="negotiate-no-response" and .phase=="negotiate" and .share=="\\\\127.0.0.1\\data")'
	# live diagnose runs nothing per TCP segment: the ACK is read from the
	# socket of the waiting request, on the tick
	check "$name: live hung object: the server's TCP ACKed the NEGOTIATE (read from the socket)" "$LIVE" \
		'any($e[]; .outcome=="hung" and (.summary|test("TCP stack acknowledged it")) and
		 any(.evidence[]; test("acknowledged the NEGOTIATE .+ after it was sent")))'
	check "$name: live final object: failed, negotiate-no-response, errno $errno" "$LIVE" \
		"[\$e[] | select(.outcome!=\"hung\")] | length==1 and .[0].outcome==\"failed\" and .[0].class==\"negotiate-no-response\" and .[0].errno==$errno"
fi
# server-unresponsive: a mount made before cifstrace started (so its socket
# is learnt from its first request), then every smbd stopped while a stat
# waits on the share. With echo_interval=1, cifsd declares the server dead
# on its next 7 s receive timeout and reconnects.
if want server-unresponsive; then
	name=server-unresponsive
	REC=$WORK/$name.jsonl
	mount_cifs_keep() { timeout 60 mount -t cifs //127.0.0.1/data /mnt/d2 -o "$GOOD,echo_interval=1" >/dev/null 2>&1; }
	mkdir -p /mnt/d2
	if mount_cifs_keep; then
		# live diagnose as well: it streams no data-plane requests and
		# must still report the hang from the kernel's in-flight table
		LIVE=$WORK/$name.live.jsonl
		attach "$name (live)" "$LIVE.err" diagnose --json --hang-after 3 >"$LIVE"
		LIVE_PID=$TRACER_PID
		record_start "$name" "$REC"
		smbd=$(pgrep -x smbd)
		# shellcheck disable=SC2086
		kill -STOP $smbd
		timeout 40 stat /mnt/d2/nothing-here >/dev/null 2>&1 &
		spid=$!
		for _ in $(seq 1 150); do
			grep -q '"event":"reconnect"' "$REC" && break
			sleep 0.2
		done
		# shellcheck disable=SC2086
		kill -CONT $smbd
		wait $spid
		trace_stop
		TRACER_PID=$LIVE_PID
		trace_stop
		umount -l /mnt/d2
		keep "$name"
		check "$name: recording has the unanswered request (in flight, ACKed), then a reconnect" "$REC" \
			'any($e[]; .event=="inflight" and .network_us != null) and any($e[]; .event=="reconnect")'
		check "$name: live diagnose reported the established connection hung, then the reconnect" "$LIVE" \
			'any($e[]; .kind=="reconnect" and .outcome=="hung" and .class=="server-unresponsive" and (.summary|test("has waited .* so far")))
			 and any($e[]; .kind=="reconnect" and .outcome=="failed")'
		check "$name: live diagnose: the server's TCP ACKed the waiting request (read from its socket)" "$LIVE" \
			'any($e[]; .kind=="reconnect" and .outcome=="hung" and any(.evidence[]; test("TCP stack acknowledged the")))'
		check "$name: live diagnose says when the connection came back and how long the share was down" "$LIVE" \
			'any($e[]; .kind=="reconnect" and .outcome=="ok" and (.summary|test("came back .* after the client reconnected: session and tree re-established; .* was unavailable for")))'
		"$CIFSTRACE" diagnose --input "$REC" --json >"$WORK/$name.diag.jsonl" 2>&1
		check "$name: diagnosed server-unresponsive, naming the unanswered request" "$WORK/$name.diag.jsonl" \
			'any($e[]; .kind=="reconnect" and .class=="server-unresponsive" and (.summary|test("waited .* without a reply")))'
		check "$name: the recording gives the recovery too" "$WORK/$name.diag.jsonl" \
			'any($e[]; .kind=="reconnect" and .outcome=="ok" and (.summary|test("came back")))'
		[ -z "$FIX" ] || jq -c -s '[.[] | {outcome, class, phase}]' "$WORK/$name.diag.jsonl" >"$FIX/$name.expect"
	else
		not_ok "$name: mount //127.0.0.1/data for the stall"
	fi
fi
run_later

"$VM/samba-stop" >/dev/null 2>&1
echo "# diagnose.sh on $(uname -r): $(( ($(now_ms) - T_START) / 1000 )) s in the guest"
exit $((FAILED > 0))
