// SPDX-License-Identifier: GPL-2.0
/*
 * The vsock frame header (kernel/frame.c).  Input: one byte that seeds where
 * the stream is split, then the byte stream a host sends.
 *
 * Properties: a header kvp_frame_parse() accepts is the one
 * kvp_frame_build() writes for its fields (nothing in it is ignored); any
 * fields build a header that parses back to them, unless their version or
 * length is out of bounds; and a stream read in pieces of any size, the
 * way kvp-hostd reads, yields the frames a reader of the whole stream finds,
 * and stops at the same bad header.
 */
#include "fuzz.h"
#include "frame.h"

#define FRAME_MAX	(KVP_VSOCK_HDR_LEN + KVP_VSOCK_MAX_PAYLOAD)

static bool same_frame(const struct kvp_frame *a, const struct kvp_frame *b)
{
	return a->version == b->version && a->type == b->type &&
	       a->length == b->length && a->id == b->id;
}

static void check_header(const u8 *hdr)
{
	struct kvp_frame frame, raw = {
		.version = kvp_get_le16(hdr + KVP_VSOCK_OFF_VERSION),
		.type = kvp_get_le16(hdr + KVP_VSOCK_OFF_TYPE),
		.length = kvp_get_le32(hdr + KVP_VSOCK_OFF_LENGTH),
		.id = kvp_get_le64(hdr + KVP_VSOCK_OFF_ID),
	};
	u8 built[KVP_VSOCK_HDR_LEN];

	if (kvp_frame_parse(hdr, &frame) == 0) {
		FUZZ_CHECK(same_frame(&frame, &raw));
		kvp_frame_build(built, &frame);
		FUZZ_CHECK(!memcmp(built, hdr, sizeof(built)));
	}
	kvp_frame_build(built, &raw);
	if (raw.version && raw.length <= KVP_VSOCK_MAX_PAYLOAD) {
		FUZZ_CHECK(kvp_frame_parse(built, &frame) == 0);
		FUZZ_CHECK(same_frame(&frame, &raw));
	} else {
		FUZZ_CHECK(kvp_frame_parse(built, &frame) == -EINVAL);
	}
}

/* The offsets of the whole stream's frames; *bad: it ends at a bad header. */
static size_t frames_at_once(const u8 *s, size_t len, size_t *offsets,
			     size_t max, bool *bad)
{
	struct kvp_frame frame;
	size_t off = 0, n = 0;

	*bad = false;
	while (n < max && len - off >= KVP_VSOCK_HDR_LEN) {
		if (kvp_frame_parse(s + off, &frame)) {
			*bad = true;
			break;
		}
		if (len - off - KVP_VSOCK_HDR_LEN < frame.length)
			break;
		offsets[n++] = off;
		off += KVP_VSOCK_HDR_LEN + frame.length;
	}
	return n;
}

/* A buffer filled by reads of `seed`-driven sizes, whole frames consumed. */
static void check_stream(const u8 *s, size_t len, uint8_t seed)
{
	size_t max = len / KVP_VSOCK_HDR_LEN + 1, nr, got = 0, fill = 0;
	size_t *offsets = malloc(max * sizeof(*offsets)), pos = 0, piece;
	u8 *buf = malloc(FRAME_MAX);
	struct kvp_frame frame, want;
	unsigned int rand = seed;
	bool bad, stopped = false;

	nr = frames_at_once(s, len, offsets, max, &bad);
	while (pos < len && !stopped) {
		rand = rand * 1103515245 + 12345;
		piece = 1 + (rand >> 16) % (seed + 1u);
		if (piece > len - pos)
			piece = len - pos;
		if (piece > FRAME_MAX - fill)
			piece = FRAME_MAX - fill;
		memcpy(buf + fill, s + pos, piece);
		fill += piece;
		pos += piece;
		while (fill >= KVP_VSOCK_HDR_LEN) {
			if (kvp_frame_parse(buf, &frame)) {
				stopped = true;
				break;
			}
			if (fill < KVP_VSOCK_HDR_LEN + frame.length)
				break;
			FUZZ_CHECK(got < nr);
			FUZZ_CHECK(kvp_frame_parse(s + offsets[got], &want) == 0);
			FUZZ_CHECK(same_frame(&frame, &want));
			FUZZ_CHECK(!memcmp(buf, s + offsets[got],
					   KVP_VSOCK_HDR_LEN + frame.length));
			got++;
			fill -= KVP_VSOCK_HDR_LEN + frame.length;
			memmove(buf, buf + KVP_VSOCK_HDR_LEN + frame.length,
				fill);
		}
	}
	FUZZ_CHECK(got == nr && stopped == bad);
	free(offsets);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (size - 1 >= KVP_VSOCK_HDR_LEN)
		check_header(data + 1);
	check_stream(data + 1, size - 1, data[0]);
	return 0;
}
