# SPDX-License-Identifier: GPL-2.0
"""The Python half of clients_test.sh: runs the real cloud-init and
WALinuxAgent code against pool files that kvpctl reads and writes.

Not run on its own: clients_test.sh runs it with Debian's python3 and
PYTHONPATH at the dist-packages of the unpacked cloud-init and waagent
packages (scripts/fetch-clients.sh), so that what is imported is the
packaged client code itself, unmodified and not mocked.

  clients_test.py cloud-init KVPCTL POOL_DIR
      cloud-init's HyperVKvpReportingHandler, configured the way a
      cloud-config "reporting:" section does it, writes pool 1 in POOL_DIR;
      kvpctl lists, gets, sets and deletes around and during its appends.
  clients_test.py waagent ND_VERSION IPOIB_DATA [provision]
      WALinuxAgent's RDMA code reads the real /var/lib/hyperv/.kvp_pool_0
      (the caller has put a private tmpfs there and written it with
      kvpctl); with "provision", RDMADeviceHandler.start() also configures
      the IP-over-IB interfaces IPOIB_DATA names (the caller has made them
      in a private network namespace).

Prints one "ok - ..." or "FAIL - ..." line per check; exits 1 if any failed.
"""

import datetime
import json
import os
import struct
import subprocess
import sys
import threading
import time
import uuid

RECORD = struct.Struct("512s2048s")  # what cloud-init packs, 2560 bytes
failures = 0


def check(cond, what, detail=None):
    global failures
    if cond:
        print("ok - " + what)
    else:
        failures += 1
        print("FAIL - " + what)
        if detail is not None:
            for line in str(detail).splitlines()[:40]:
                print("    " + line)
    sys.stdout.flush()
    return cond


def done():
    print("%s: %s" % (sys.argv[1], "all checks passed" if not failures
                      else "%d check(s) FAILED" % failures))
    sys.exit(1 if failures else 0)


# ---- cloud-init -------------------------------------------------------------

class Kvpctl:
    def __init__(self, exe, pool_dir):
        self.exe = exe
        self.pool_dir = pool_dir

    def run(self, *args):
        r = subprocess.run([self.exe, "--pool-dir", self.pool_dir] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("kvpctl %s: exit %d: %s" % (
                " ".join(args), r.returncode,
                r.stderr.decode(errors="replace").strip()))
        return r.stdout.decode()

    def items(self, pool="guest"):
        """`kvpctl -j list POOL` as a list of (key, value), in its order."""
        out = json.loads(self.run("-j", "list", pool))
        assert len(out) == 1 and out[0]["number"] == 1, out
        return [(i["key"], i["value"]) for i in out[0]["items"]]


def decode_file(path):
    """The pool file decoded on its own, record by record with
    struct "512s2048s": each field up to its first NUL, strict UTF-8; any
    oddity (torn tail, empty key, bytes after a NUL) is an error."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) % RECORD.size:
        raise ValueError("%s: %d bytes, not a multiple of %d"
                         % (path, len(data), RECORD.size))
    items = []
    for off in range(0, len(data), RECORD.size):
        k, v = RECORD.unpack_from(data, off)
        for name, field in (("key", k), ("value", v)):
            head, nul, tail = field.partition(b"\0")
            if not nul or tail.strip(b"\0"):
                raise ValueError("record at %d: %s not NUL-terminated and "
                                 "zero-padded" % (off, name))
        k = k.partition(b"\0")[0].decode("utf-8")
        v = v.partition(b"\0")[0].decode("utf-8")
        if not k:
            raise ValueError("record at %d: empty key" % off)
        items.append((k, v))
    return items


def iso_z(ts):
    """The "ts" cloud-init puts in an event: ISO-8601 UTC with a Z."""
    utc = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return utc.replace(tzinfo=None).isoformat() + "Z"


def is_uuid4(s):
    try:
        return uuid.UUID(s).version == 4 and str(uuid.UUID(s)) == s
    except ValueError:
        return False


def event_records(items, handler, ev):
    """Checks that ev is in items exactly as cloud-init's key scheme and JSON
    value say, whole or in chunks; returns an error string or None."""
    prefix = "CLOUD_INIT|%d|%s|%s|" % (handler.incarnation_no, ev.event_type,
                                       ev.name)
    mine = [(k, v) for k, v in items if k.startswith(prefix)]
    if not mine:
        return "no record with key %s<uuid4>" % prefix
    meta = {"name": ev.name, "type": ev.event_type, "ts": iso_z(ev.timestamp)}
    if hasattr(ev, "result"):
        meta["result"] = ev.result
    rests = [k[len(prefix):].split("|") for k, _ in mine]
    if len(mine) == 1 and len(rests[0]) == 1:
        k, v = mine[0]
        if not is_uuid4(rests[0][0]):
            return "key %r does not end in a uuid4" % k
        if len(v) > 1024:
            return "value of %d characters (cloud-init's cap is 1024)" % len(v)
        want = dict(meta, msg=ev.description)
        if json.loads(v) != want:
            return "value %r, expected %r" % (v, want)
        return None
    # Chunks: <key>|0 .. <key>|n-1, one uuid, "msg_i": i, msg slices in order.
    uuids = {r[0] for r in rests}
    if len(uuids) != 1 or not is_uuid4(uuids.pop()):
        return "chunk keys with several or bad uuids: %r" % [k for k, _ in mine]
    if any(len(r) != 2 for r in rests) or \
            sorted(int(r[1]) for r in rests) != list(range(len(mine))):
        return "chunk keys not <key>|0..%d: %r" % (len(mine) - 1,
                                                    [k for k, _ in mine])
    msg = [None] * len(mine)
    for (k, v), r in zip(mine, rests):
        i = int(r[1])
        if len(v) > 1024:
            return "chunk %d: %d characters (cloud-init's cap is 1024)" % (
                i, len(v))
        got = json.loads(v)
        msg[i] = got.pop("msg", None)
        if got != dict(meta, msg_i=i):
            return "chunk %d: %r, expected %r" % (i, got, dict(meta, msg_i=i))
    if "".join(msg) != ev.description:
        return "the chunks' msg slices do not join up to the description"
    return None


def check_pool(kc, pool_file, handler, evs, kvpctl_items, what):
    """kvpctl's list, the file decoded independently and cloud-init's own
    reader agree, record for record; every event is there as cloud-init
    encodes it; and nothing else than evs and kvpctl_items is."""
    listed = kc.items()
    try:
        decoded = decode_file(pool_file)
    except ValueError as e:
        decoded = str(e)
    ci_read = [(d["key"], d["value"]) for d in handler._iterate_kvps(0)]
    check(listed == decoded, what + ": kvpctl -j list guest == the file "
          "decoded with struct '512s2048s' (%d records, same order)"
          % len(listed), "kvpctl: %r\nfile:   %r" % (listed, decoded))
    check(listed == ci_read, what + ": kvpctl -j list guest == cloud-init's "
          "own reader (HyperVKvpReportingHandler._iterate_kvps)",
          "kvpctl:     %r\ncloud-init: %r" % (listed, ci_read))
    keys = [k for k, _ in listed]
    check(len(keys) == len(set(keys)), what + ": no key twice",
          sorted(k for k in set(keys) if keys.count(k) > 1))
    errors = []
    n_ci = 0
    for ev in evs:
        err = event_records(listed, handler, ev)
        if err:
            errors.append("%s/%s: %s" % (ev.event_type, ev.name, err))
    n_ci = sum(1 for k in keys if k.startswith("CLOUD_INIT|"))
    check(not errors, what + ": all %d cloud-init events there, keys and "
          "JSON values exactly as cloud-init encodes them (%d records)"
          % (len(evs), n_ci), "\n".join(errors[:20]))
    others = [(k, v) for k, v in listed if not k.startswith("CLOUD_INIT|")]
    check(sorted(others) == sorted(kvpctl_items.items()),
          what + ": kvpctl's own %d items exactly, nothing else"
          % len(kvpctl_items),
          "got      %r\nexpected %r" % (sorted(others),
                                        sorted(kvpctl_items.items())))
    return listed


def cloud_init(kvpctl_exe, pool_dir):
    from cloudinit import reporting
    from cloudinit.reporting import events, handlers

    kc = Kvpctl(kvpctl_exe, pool_dir)
    pool_file = os.path.join(pool_dir, ".kvp_pool_1")

    # Truncate-once-per-boot: a pool 1 older than the boot is emptied when
    # the handler starts, and kvpctl sees it empty.
    kc.run("set", "guest", "from.last.boot", "stale")
    os.utime(pool_file, (1, 1))
    # As cloud-init does it from cloud-config
    # "reporting: {telemetry: {type: hyperv, kvp_file_path: ...}}".
    reporting.update_configuration({"telemetry": {
        "type": "hyperv", "kvp_file_path": pool_file}})
    h = reporting.instantiated_handler_registry.registered_items["telemetry"]
    check(type(h) is handlers.HyperVKvpReportingHandler,
          "cloud-init: reporting type 'hyperv' is HyperVKvpReportingHandler, "
          "kvp_file_path=" + pool_file)
    check(os.path.getsize(pool_file) == 0 and kc.items() == [],
          "cloud-init truncated the pool 1 left from before boot; kvpctl "
          "lists it empty")

    mine = {"kvpctl.before": "set by kvpctl before cloud-init's events",
            "kvpctl.utf8": "h\u00e9 \u2713 \U0001F600 | \"q\" \\"}
    for k, v in mine.items():
        kc.run("set", "guest", k, v)

    long_desc = " ".join("word%04d" % i for i in range(400))  # 3599 chars
    evs = [
        events.ReportingEvent("start", "init-local",
                              "searching for local datasources"),
        events.FinishReportingEvent("init-local", "finished init-local",
                                    events.status.SUCCESS),
        events.ReportingEvent("diagnostic", "azure-ds/diag",
                              "h\u00e9llo w\u00f6rld \u2713 \"quoted\" "
                              "back\\slash\ttab"),
        events.FinishReportingEvent("modules-final", "config-x failed",
                                    events.status.FAIL),
        events.ReportingEvent("diagnostic", "long-message", long_desc),
    ]
    for ev in evs:
        events.report_event(ev)
    reporting.flush_events()

    listed = check_pool(kc, pool_file, h, evs, mine, "after 5 events")
    chunks = [k for k, _ in listed if "|diagnostic|long-message|" in k]
    check(len(chunks) >= 4, "cloud-init split the %d-character message into "
          "%d chunks (<key>|0..%d)" % (len(long_desc), len(chunks),
                                       len(chunks) - 1))
    if chunks:
        k = chunks[-1]
        v = dict(listed)[k]
        got = kc.run("get", "guest", k)
        check(got == v + "\n", "kvpctl get guest <chunk key with '|'> "
              "prints its value", "%r != %r" % (got, v))
        got = json.loads(kc.run("-j", "get", "guest", k))
        check(got == {"pool": "guest", "key": k, "value": v},
              "kvpctl -j get guest <chunk key> has the exact value", got)

    # kvpctl changes pool 1 under cloud-init's records.
    kc.run("delete", "guest", "kvpctl.before")
    del mine["kvpctl.before"]
    kc.run("set", "guest", "kvpctl.utf8", "replaced")
    mine["kvpctl.utf8"] = "replaced"
    kc.run("set", "guest", "kvpctl.after", "x" * 2047)
    mine["kvpctl.after"] = "x" * 2047
    check_pool(kc, pool_file, h, evs, mine,
               "after kvpctl delete/replace/set")

    # kvpctl set/delete while cloud-init's publishing thread appends:
    # cloud-init locks with flock only, the engine with fcntl and flock.
    n_ops = 90
    errors = []
    ops = [0]

    def kvpctl_loop():
        try:
            for i in range(n_ops):
                k = "kvpctl.loop.%03d" % i
                v = ("value %d " % i) * (1 + i % 40)
                kc.run("set", "guest", k, v)
                mine[k] = v
                ops[0] += 1
                if i % 3 == 2:
                    old = "kvpctl.loop.%03d" % (i - 2)
                    kc.run("delete", "guest", old)
                    del mine[old]
                    ops[0] += 1
                if i % 10 == 9:
                    old = "kvpctl.loop.%03d" % (i - 1)
                    kc.run("set", "guest", old, "updated %d" % i)
                    mine[old] = "updated %d" % i
                    ops[0] += 1
        except Exception as e:  # reported below
            errors.append(e)

    t = threading.Thread(target=kvpctl_loop)
    t0 = time.monotonic()
    t.start()
    loop_evs = []
    while t.is_alive() or len(loop_evs) < 50:
        ev = events.ReportingEvent("interleave", "ev-%05d" % len(loop_evs),
                                   "appended while kvpctl runs, #%d"
                                   % len(loop_evs))
        events.report_event(ev)
        loop_evs.append(ev)
        time.sleep(0.002)
        if len(loop_evs) >= 5000:
            break
    t.join()
    reporting.flush_events()
    secs = time.monotonic() - t0
    check(not errors, "%d kvpctl set/delete runs in pool 1 while cloud-init "
          "published %d events in %.1f s, every kvpctl run succeeded"
          % (ops[0], len(loop_evs), secs), errors and errors[0])
    check_pool(kc, pool_file, h, evs + loop_evs, mine, "after the interleaving")
    done()


# ---- WALinuxAgent -----------------------------------------------------------

def waagent(nd_version, ipoib_data, provision):
    from azurelinuxagent.common import logger, rdma

    logged = []
    logger.add_logger_appender(logger.AppenderType.TELEMETRY,
                               logger.LogLevel.INFO,
                               lambda level, msg: logged.append((level, msg)))
    pool0 = "/var/lib/hyperv/.kvp_pool_0"
    check(rdma.__file__.startswith(os.environ.get("PYTHONPATH", "-")),
          "WALinuxAgent's rdma module from the unpacked package: "
          + rdma.__file__)

    got = rdma.RDMAHandler().get_rdma_version()
    check(got == nd_version, "WALinuxAgent RDMAHandler().get_rdma_version() "
          "reads %s: %r" % (pool0, got), "expected %r" % nd_version)

    got = rdma.RDMADeviceHandler(None, None, None).read_ipoib_data()
    check(got == ("IPoIB_Data", ipoib_data), "WALinuxAgent RDMADeviceHandler"
          ".read_ipoib_data() reads %s: %r" % (pool0, got),
          "expected %r" % (("IPoIB_Data", ipoib_data),))

    if provision:
        # nd_version None: the SR-IOV path, read_ipoib_data() and then
        # provision_sriov_multiple_ib(), which parses NUMPAIRS:<n>|<MAC>:<IP>
        # and runs `ip` on the ib* interface with that MAC.
        del logged[:]
        rdma.RDMADeviceHandler(None, None, None).start()
        bad = [m for level, m in logged if level >= logger.LogLevel.WARNING]
        for level, m in logged:
            print("    waagent: " + m.strip())
        check(not bad, "WALinuxAgent RDMADeviceHandler.start() provisioned "
              "from IPoIB_Data without a warning or error", "\n".join(bad))
    done()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "cloud-init":
        cloud_init(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "waagent":
        waagent(sys.argv[2], sys.argv[3],
                len(sys.argv) == 5 and sys.argv[4] == "provision")
    else:
        sys.exit("usage: clients_test.py cloud-init KVPCTL POOL_DIR | "
                 "waagent ND_VERSION IPOIB_DATA [provision]")


if __name__ == "__main__":
    main()
