// SPDX-License-Identifier: GPL-2.0
/*
 * kvp-hostd's control parser: the input is what a `kvpctl host` client
 * sends on the control socket, taken by the daemon's own client code
 * (kvp_ctl_client_new(): framing, decoding, the command table, key and
 * value checks) with one ready guest, VM "alpha" (CID 1000), connected, so
 * that requests for it are encoded, queued and sent.
 */
#include <sys/socket.h>
#include <unistd.h>

#include "hostd_harness.h"
#include "uapi/kvp_vsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvp_guest *guest;
	int guest_sv[2], sv[2];

	hostd_fuzz_init();
	guest = hostd_fuzz_guest(guest_sv);
	if (!guest)
		return 0;
	/* As after a negotiation that chose what a Linux guest chooses. */
	guest->state = KVP_GUEST_READY;
	guest->version = KVP_VSOCK_VERSION_MAX;
	guest->fw_version = KVP_VERSION(3, 0);
	guest->msg_version = KVP_VERSION(4, 0);
	if (!hostd_fuzz_pair(sv)) {
		hostd_fuzz_feed(sv[1], data, size);
		shutdown(sv[1], SHUT_WR);
		kvp_ctl_client_new(sv[0]);
		hostd_fuzz_drain(sv[1]);
		kvp_ctl_close();
		close(sv[1]);
	}
	kvp_guests_free();
	close(guest_sv[1]);
	return 0;
}
