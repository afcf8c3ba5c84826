# cifstrace: eBPF tracer for the Linux SMB client (cifs.ko).
#
#   make          build build/cifstrace (installs missing Debian packages)
#   make test     unit tests on the host + guest tests under qemu
#   make demo     boot a guest, break some mounts, watch cifstrace explain them
#   make bench    cifstrace's overhead against tcpdump, trace-cmd and bpftrace
#   make soak     10,000 mount attempts under a live diagnose (SOAK_N=...)
#   make deps     install the Debian packages the build and tests need
#   make install  PREFIX=/usr/local DESTDIR=: binary, man page, exporter unit and rules
#   make deb      build/cifstrace_<version>_<arch>.deb
#   make btf      btf/<release>.btf for kernels without BTF for cifs (5.10)

OUTPUT   := build
CLANG    ?= clang
BPFTOOL  ?= bpftool
LLVM_STRIP ?= llvm-strip
CC       ?= cc
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

# vmlinux.h comes from the build host's BTF; cifs types are declared in
# bpf/cifs_types.h, so any kernel with BTF builds a portable object.
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

CFLAGS   ?= -g -O2
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
	    -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	    -Iinclude -Iuser -I$(OUTPUT)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf -I$(OUTPUT)

# libbpf, libelf, zlib and jansson are linked statically so the one binary
# can be copied to another host; glibc stays dynamic.
STATIC_LIBS := -Wl,-Bstatic -lbpf -lelf -lz -ljansson -Wl,-Bdynamic -lm -Wl,-z,relro,-z,now
# libbpf's own loads of the kernel's BTF take the copy cifstrace parsed
# (user/hooks.c, hand_over_btf)
TOOL_LDFLAGS := -Wl,--wrap=btf__load_vmlinux_btf

# The pipeline, one file per job: hooks -> stream -> renderers.
CORE_SRCS := user/ntstatus.c user/names.c user/escape.c user/render_text.c user/stream.c \
	     user/event_json.c user/snapshot.c user/latency.c user/attempts.c user/diagnosis.c user/render_diagnosis.c \
	     user/metrics.c user/http.c user/krb.c
TOOL_SRCS := user/main.c user/cmd_events.c user/cmd_record.c user/cmd_diagnose.c user/cmd_latency.c user/cmd_exporter.c user/cmd_run.c user/cmd_check.c user/live.c user/tracer.c user/hooks.c \
	     user/privileges.c user/corebtf.c user/kbtf.c
CORE_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(CORE_SRCS))
TOOL_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(TOOL_SRCS))

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps test unit-test guest-test fuzz demo bench soak clean install deb btf
.DELETE_ON_ERROR:

all: deps $(OUTPUT)/cifstrace

deps:
	@tests/deps.sh

$(OUTPUT): | deps
	@mkdir -p $@ $@/tests

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

# The BPF side, one file per concern, linked into one object.
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.o,$(BPF_SRCS))

$(OUTPUT)/bpf/%.o: bpf/%.bpf.c bpf/core.bpf.h bpf/cifs_types.h include/cifstrace.h \
		   $(OUTPUT)/vmlinux.h | $(OUTPUT)
	@mkdir -p $(OUTPUT)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/cifstrace.bpf.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^
	$(LLVM_STRIP) -g $@

$(OUTPUT)/cifstrace.skel.h: $(OUTPUT)/cifstrace.bpf.o
	$(BPFTOOL) gen skeleton $< name cifstrace_bpf > $@

$(OUTPUT)/tracer.o $(OUTPUT)/hooks.o: $(OUTPUT)/cifstrace.skel.h

$(OUTPUT)/%.o: user/%.c $(wildcard user/*.h) include/cifstrace.h | $(OUTPUT)
	$(CC) $(CFLAGS) -c $< -o $@

# BTF for kernels without BTF for cifs (make btf), built into the binary.
BTF_FILES := $(wildcard btf/*.btf)
$(OUTPUT)/btf_embedded.c: btf/embed.sh $(BTF_FILES) | $(OUTPUT)
	btf/embed.sh $(BTF_FILES) > $@
$(OUTPUT)/btf_embedded.o: $(OUTPUT)/btf_embedded.c user/corebtf.h
	$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/cifstrace: $(CORE_OBJS) $(TOOL_OBJS) $(OUTPUT)/btf_embedded.o
	$(CC) $(CFLAGS) $^ $(TOOL_LDFLAGS) $(STATIC_LIBS) -o $@

$(OUTPUT)/btfflat: btf/btfflat.c | $(OUTPUT)
	$(CC) $(CFLAGS) $< $(STATIC_LIBS) -o $@

btf: deps
	@btf/mkbtf.sh

# Unit tests link the pure userspace pieces only (and the raw BTF reader,
# which reads files): no BPF, no root.
UNIT_OBJS := $(CORE_OBJS) $(OUTPUT)/kbtf.o
$(OUTPUT)/tests/%: tests/unit/%.c $(UNIT_OBJS) | $(OUTPUT)
	$(CC) $(CFLAGS) $< $(UNIT_OBJS) $(STATIC_LIBS) -lcmocka -o $@

unit-test: deps $(UNIT_TESTS)
	@tests/run-unit.sh $(UNIT_TESTS)

# libFuzzer build of the pure pipeline, with ASan and UBSan.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I$(OUTPUT)
$(OUTPUT)/fuzz_stream: tests/fuzz/fuzz_stream.c $(CORE_SRCS) $(wildcard user/*.h) | $(OUTPUT)
	$(CLANG) $(FUZZ_CFLAGS) $< $(CORE_SRCS) -Wl,-Bstatic -ljansson -Wl,-Bdynamic -lm -o $@

fuzz: deps $(OUTPUT)/fuzz_stream
	@tests/run-fuzz.sh $(OUTPUT)/fuzz_stream

guest-test: deps $(OUTPUT)/cifstrace
	@tests/run-guest.sh

# One summary line over every suite: "N passed, N failed".
test: deps $(OUTPUT)/cifstrace $(UNIT_TESTS) $(OUTPUT)/fuzz_stream deb
	@tests/run-all.sh $(UNIT_TESTS)

soak: deps $(OUTPUT)/cifstrace
	@tests/soak/run

demo: deps $(OUTPUT)/cifstrace
	@tests/demo/run

# A benchmark, not a test: tables of overhead measured side by side.
bench: deps $(OUTPUT)/cifstrace
	@tests/bench/run

clean:
	rm -rf $(OUTPUT)

# ---------------------------------------------------------------- install
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR := $(PREFIX)/sbin
MANDIR  := $(PREFIX)/share/man
SHAREDIR := $(PREFIX)/share/cifstrace
UNITDIR ?= $(PREFIX)/lib/systemd/system
VERSION := $(shell sed -n 's/^#define CIFSTRACE_VERSION "\(.*\)"/\1/p' user/commands.h)

install: $(OUTPUT)/cifstrace
	install -D -m 0755 $(OUTPUT)/cifstrace $(DESTDIR)$(SBINDIR)/cifstrace
	install -D -m 0644 doc/cifstrace.8 $(DESTDIR)$(MANDIR)/man8/cifstrace.8
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SHAREDIR)/prometheus
	sed 's|/usr/local/sbin/cifstrace|$(SBINDIR)/cifstrace|' \
		contrib/systemd/cifstrace-exporter.service \
		>$(DESTDIR)$(UNITDIR)/cifstrace-exporter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/cifstrace-exporter.service
	install -m 0644 contrib/prometheus/*.yml $(DESTDIR)$(SHAREDIR)/prometheus/

# A Debian package of the same files (Debian paths), built with dpkg-deb.
deb: deps $(OUTPUT)/cifstrace
	@packaging/build-deb $(VERSION)
