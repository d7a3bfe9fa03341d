/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kvp: the generic-netlink API of the Hyper-V KVP exchange module.
 *
 * Family name "kvp" (KVP_GENL_NAME), version 2 (KVP_GENL_VERSION; version 1
 * had no activation service, no KVP_A_SERVICE and no multicast group).  The
 * family lives in the initial network namespace only.  It has one multicast
 * group, "events" (KVP_GENL_MCGRP_EVENTS), that any user may join.  Every message carries the
 * standard genetlink header followed by attributes; all integers are in host
 * order, all strings are UTF-8 and NUL-terminated.
 *
 * Commands
 * --------
 *
 * kvp.ko serves two IC services (enum kvp_service): the KVP exchange, where
 * the host asks and the daemon answers, and activation, where the guest
 * asks (KVP_CMD_ACTIVATE) and the host answers.
 *
 * KVP_CMD_GET_STATUS (any user)
 *   Request: optional KVP_A_SERVICE (u32, enum kvp_service; default
 *   KVP_SERVICE_KVP; EINVAL for a service kvp.ko does not have).
 *   Reply (KVP_CMD_GET_STATUS), about that service:
 *     KVP_A_SERVICE            u32, the service this status is about
 *     KVP_A_STATE              u32, enum kvp_state
 *     KVP_A_TRANSPORT          string, name of the bound transport
 *                              ("vsock", "vmbus"); absent when none
 *                              carries the service
 *     KVP_A_FW_VERSION         u32, negotiated IC framework version
 *     KVP_A_MSG_VERSION        u32, negotiated message version of the
 *                              service (KVP, or activation)
 *                              (both major << 16 | minor; absent before
 *                              the host negotiated)
 *     KVP_A_DAEMON_PID         u32, process id of the registered daemon;
 *                              absent when none is registered (KVP only)
 *     KVP_A_DAEMON_KIND        string, how that daemon is attached:
 *                              "netlink" (this family, kvpd) or "chardev"
 *                              (/dev/vmbus/hv_kvp, the stock
 *                              hv_kvp_daemon); absent when none is
 *     KVP_A_CHARDEV            u32, enum kvp_chardev_state: whether
 *                              /dev/vmbus/hv_kvp is kvp's
 *     KVP_A_PENDING            u32, host requests queued or at the daemon;
 *                              for activation, requests waiting for
 *                              the host's reply
 *     KVP_A_DAEMON_WAIT_MS     u32, how long a host request waits for a
 *                              daemon to register (module parameter)
 *     KVP_A_REQUEST_TIMEOUT_MS u32, how long the daemon has to answer
 *                              (module parameter)
 *     KVP_A_STAT_*             u64 counters since the module loaded:
 *       REQUESTS     KVP requests received from the host; for
 *                    activation, requests sent to the host
 *       FAILURES     requests answered with a failure status; for
 *                    activation, requests that got no reply
 *       TIMEOUTS     requests failed because no daemon answered in time;
 *                    for activation, because the host did not
 *       MALFORMED    packets dropped or refused as malformed
 *       LATE_REPLIES daemon replies that came after their request ended;
 *                    for activation, host replies that came after their
 *                    request timed out
 *       NEGOTIATIONS version negotiations answered
 *       TRUNCATED    replies whose key or value was cut to the wire limit
 *
 * KVP_CMD_REGISTER (CAP_NET_ADMIN)
 *   Makes the calling netlink socket the KVP daemon.  One daemon at a time,
 *   over netlink or /dev/vmbus/hv_kvp: while one is attached another gets
 *   EBUSY, and the extended ack's message says which (on kernels with
 *   formatted extack messages, 6.2 and later, with its pid).  The
 *   registration ends when that socket closes; requests it held are then
 *   failed to the host.
 *   Request: no attributes.  Reply: the netlink ack.
 *
 * KVP_CMD_REQUEST (kernel -> daemon)
 *   A host request, unicast to the registered daemon's socket.
 *     KVP_A_REQ_ID   u32, echoed in the reply
 *     KVP_A_OP       u32, KVP_OP_GET/SET/DELETE/ENUMERATE (uapi values 0-3)
 *     KVP_A_POOL     u32, 0-4
 *     KVP_A_INDEX    u32, ENUMERATE only: the item index
 *     KVP_A_KEY      string (<= 511 bytes), GET, SET and DELETE
 *     KVP_A_VALUE    string (<= 2047 bytes), SET only
 *
 * KVP_CMD_REPLY (CAP_NET_ADMIN, from the registered daemon's socket only)
 *   The daemon's answer to a KVP_CMD_REQUEST.
 *     KVP_A_REQ_ID   u32, required
 *     KVP_A_STATUS   u32, required: the HRESULT for the host.  0 (S_OK) for
 *                    success, 0x80070103 (no more items) for a missing key or
 *                    an index past the end, 0x80004005 (E_FAIL) otherwise
 *     KVP_A_KEY      string, ENUMERATE replies with status 0
 *     KVP_A_VALUE    string, GET and ENUMERATE replies with status 0
 *   Errors: EPERM when not sent by the registered daemon, ENOENT when the
 *   request already ended (timed out, or its transport went away), EINVAL
 *   when a required attribute is missing or a string is not valid UTF-8.
 *
 * KVP_CMD_ACTIVATE (CAP_NET_ADMIN, any socket)
 *   Sends one activation request to the host and returns at once; the
 *   answer comes later as a KVP_CMD_ACTIVATION to the same socket.
 *     KVP_A_REQ_ID       u32, required: the caller's cookie, echoed
 *     KVP_A_ACT_REQUEST  binary, required: the request body
 *                        (Documentation/protocol.rst section 4), exactly
 *                        212 bytes; kvp.ko adds the IC header
 *   Errors: EINVAL (attribute missing, or a body that does not parse),
 *   EHOSTUNREACH (no transport is bound, or the bound one carries no
 *   activation channel: VMBus, or a vsock host that does not serve it),
 *   ENOTCONN (the transport carries one but the host has not negotiated
 *   it yet), EBUSY (the socket already has 8
 *   requests outstanding), ENOMEM.
 *
 * KVP_CMD_ACTIVATION (kernel -> the socket that sent KVP_CMD_ACTIVATE)
 *   The end of one activation request.
 *     KVP_A_REQ_ID       u32, the request's cookie
 *     KVP_A_ACT_REPLY    binary: the host's reply body (protocol.rst
 *                        section 4), checked by kvp.ko to parse; or
 *     KVP_A_ERRNO        u32, a positive errno when there is no reply:
 *                        ETIMEDOUT (none within request_timeout_ms),
 *                        ECONNRESET (the connection to the host ended)
 *   Requests of a socket that closes are dropped.
 *
 * KVP_CMD_SERVICE_EVENT (kernel -> multicast group "events")
 *   A service's state changed (enum kvp_state): a host connected and
 *   negotiated, a connection ended, a transport came or went.
 *     KVP_A_SERVICE  u32, enum kvp_service
 *     KVP_A_STATE    u32, enum kvp_state, the new state
 *
 * Keys and values that do not fit the host wire (255 and 1023 UTF-16 code
 * units) are cut at a character boundary and counted in
 * KVP_A_STAT_TRUNCATED.
 */
#ifndef _UAPI_KVP_H
#define _UAPI_KVP_H

#define KVP_GENL_NAME		"kvp"
#define KVP_GENL_VERSION	2
#define KVP_GENL_MCGRP_EVENTS	"events"

enum kvp_cmd {
	KVP_CMD_UNSPEC,
	KVP_CMD_GET_STATUS,
	KVP_CMD_REGISTER,
	KVP_CMD_REQUEST,
	KVP_CMD_REPLY,
	KVP_CMD_ACTIVATE,
	KVP_CMD_ACTIVATION,
	KVP_CMD_SERVICE_EVENT,
	__KVP_CMD_MAX,
};

#define KVP_CMD_MAX (__KVP_CMD_MAX - 1)

enum kvp_attr {
	KVP_A_UNSPEC,
	KVP_A_STATE,
	KVP_A_TRANSPORT,
	KVP_A_FW_VERSION,
	KVP_A_MSG_VERSION,
	KVP_A_DAEMON_PID,
	KVP_A_PENDING,
	KVP_A_DAEMON_WAIT_MS,
	KVP_A_REQUEST_TIMEOUT_MS,
	KVP_A_STAT_REQUESTS,
	KVP_A_STAT_FAILURES,
	KVP_A_STAT_TIMEOUTS,
	KVP_A_STAT_MALFORMED,
	KVP_A_STAT_LATE_REPLIES,
	KVP_A_STAT_NEGOTIATIONS,
	KVP_A_STAT_TRUNCATED,
	KVP_A_REQ_ID,
	KVP_A_OP,
	KVP_A_POOL,
	KVP_A_INDEX,
	KVP_A_KEY,
	KVP_A_VALUE,
	KVP_A_STATUS,
	KVP_A_PAD,
	KVP_A_DAEMON_KIND,
	KVP_A_CHARDEV,
	KVP_A_SERVICE,
	KVP_A_ACT_REQUEST,
	KVP_A_ACT_REPLY,
	KVP_A_ERRNO,
	__KVP_A_MAX,
};

#define KVP_A_MAX (__KVP_A_MAX - 1)

enum kvp_service {
	KVP_SERVICE_KVP,	/* the KVP exchange: the host asks */
	KVP_SERVICE_ACTIVATION,	/* activation: the guest asks */
};

enum kvp_state {
	KVP_STATE_NO_TRANSPORT,	/* no transport bound that carries it */
	KVP_STATE_CONNECTING,	/* transport bound, host not reached yet */
	KVP_STATE_CONNECTED,	/* host reached, versions not negotiated */
	KVP_STATE_NEGOTIATED,	/* host negotiated; requests flow */
};

/*
 * /dev/vmbus/hv_kvp, the stock daemon's device: it exists while a transport
 * is bound, unless another driver (hv_utils) has a device of that name.
 */
enum kvp_chardev_state {
	KVP_CHARDEV_OFF,	/* no transport bound: no device */
	KVP_CHARDEV_READY,	/* kvp's device is there */
	KVP_CHARDEV_BUSY,	/* the name belongs to another driver */
};

#endif /* _UAPI_KVP_H */
