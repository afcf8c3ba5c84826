#!/bin/bash
# Packaging checks on the host, as TAP: the .deb passes lintian without
# errors or warnings, `make install` puts every file where it belongs, and
# the man page covers every subcommand and option. (tests/guest/package.sh
# installs the .deb in a guest without libbpf and runs it.)
set -u
cd "$(dirname "$0")/.."
ok() { echo "ok - package: $*"; }
not_ok() { echo "not ok - package: $*"; }
deb=$(ls build/cifstrace_*_*.deb 2>/dev/null | head -1)
if [ -z "$deb" ]; then
	not_ok "make deb built a package"
	exit 1
fi
ok "make deb built $(basename "$deb")"
out=$(lintian --fail-on error,warning "$deb" 2>&1 | grep -v 'root privileges')
if lintian --fail-on error,warning "$deb" >/dev/null 2>&1; then
	ok "lintian: no errors, no warnings"
else
	not_ok "lintian: no errors, no warnings"
	printf '%s\n' "$out" | head -10 | sed 's/^/#   /'
fi
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
if make -s install DESTDIR="$d" PREFIX=/usr/local >/dev/null 2>&1 &&
	[ -x "$d/usr/local/sbin/cifstrace" ] && [ -f "$d/usr/local/share/man/man8/cifstrace.8" ] &&
	grep -q '^ExecStart=/usr/local/sbin/cifstrace exporter' \
		"$d/usr/local/lib/systemd/system/cifstrace-exporter.service" &&
	[ -f "$d/usr/local/share/cifstrace/prometheus/cifstrace-rules.yml" ]; then
	ok "make install DESTDIR PREFIX: binary, man page, unit (pointing at the binary), rules"
else
	not_ok "make install DESTDIR PREFIX: binary, man page, unit, rules"
	find "$d" -type f | sed 's/^/#   /'
fi
# every subcommand and every long option of every subcommand is in the man page
man=$(MANWIDTH=200 man -l doc/cifstrace.8 2>/dev/null)
missing=
for c in $(build/cifstrace --help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1}'); do
	printf '%s' "$man" | grep -q "cifstrace $c" || missing="$missing $c"
	for o in $(build/cifstrace "$c" --help | grep -oE '^ +(-., )?--[a-z-]+' | grep -oE -- '--[a-z-]+' |
		grep -vE -- '--(help|usage)$'); do
		printf '%s' "$man" | grep -q -- "$o" || missing="$missing $c:$o"
	done
done
[ -z "$missing" ] && ok "the man page names every subcommand and option" ||
	not_ok "the man page names every subcommand and option (missing:$missing)"
# every diagnosis class (the table in user/diagnosis.c) in the man page and the README
classes=$(sed -n '/diagnosis_classes\[\] = {/,/NULL/p' user/diagnosis.c | grep -oE '"[a-z0-9-]+"' | tr -d '"')
# (the man page's source: rendered, man hyphenates the long names)
missing=
for c in $classes; do
	grep -qw -- "$c" doc/cifstrace.8 || missing="$missing man:$c"
	grep -q -- "| \`$c\` |" README.md || missing="$missing README:$c"
done
[ "$(wc -w <<<"$classes")" -ge 20 ] && [ -z "$missing" ] &&
	ok "the man page and the README's table name every diagnosis class ($(wc -w <<<"$classes"))" ||
	not_ok "the man page and the README's table name every diagnosis class (missing:$missing)"
