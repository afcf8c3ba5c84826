// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes as a recording, through the reader, the
 * attempts engine, the diagnosis and both renderers. Run by make test for
 * a bounded time with ASan and UBSan; the fixtures are its seed corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include "attempts.h"
#include "diagnosis.h"
#include "render.h"
#include "stream.h"

static FILE *sink;

static void render(void *ctx, const struct attempt *a, enum outcome o, __u64 now)
{
	struct diagnosis d;

	diagnose_attempt(a, o, now, &d);
	render_diagnosis_text(sink, a, &d);
	render_diagnosis_json(sink, a, &d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_reader r;
	struct engine *en;
	struct ct_event e;
	__u64 last = 0;
	FILE *in;

	if (!size)
		return 0;
	if (!sink)
		sink = fopen("/dev/null", "w");
	in = fmemopen((void *)data, size, "r");
	en = engine_new(5000000000ull, render, NULL);
	if (!in || !en)
		return 0;
	if (stream_open(&r, in, "fuzz") == 0) {
		while (stream_next(&r, &e) > 0) {
			if (e.ts_ns > last)
				last = e.ts_ns;
			engine_feed(en, &e);
		}
	}
	engine_finish(en, last);
	engine_free(en);
	stream_close(&r);
	fclose(in);
	return 0;
}
