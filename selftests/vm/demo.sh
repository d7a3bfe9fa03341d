#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-VM demo (`make demo`): a KVM host (kvp-hostd) and a guest (kvp.ko,
# kvp_vsock.ko, kvpd) exchanging items.  Both run in this VM; the guest
# reaches the host over vsock loopback (CID 1), with the very bytes a
# Hyper-V host and guest exchange on VMBus.

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

SOCK=/run/kvp-hostd.sock

say "host: kvp-hostd's configuration: it holds a Windows Server 2022 Datacenter licence"
mkdir -p /etc/kvp
cat >/etc/kvp/hostd.conf <<'CONF'
[host]
name = demo-host

[activation]
lease = 7d

[license]
product = windows-server
version = 2022
edition = datacenter
activated = yes
CONF
cat /etc/kvp/hostd.conf

say "host: start kvp-hostd, naming the guest at CID 1 'demo-guest'"
kvp-hostd -f --vm 1=demo-guest --item Datacenter=lab-1 2>/dev/null &
HOSTD=$!

say "guest: load the modules and start kvpd"
run modprobe kvp
run modprobe kvp_vsock host_cid=1
kvpd -n 2>/dev/null &
KVPD=$!

i=0
until kvpctl -j host list 2>/dev/null | grep -q '"state":"ready"'; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "the guest did not connect"; exit 1; }
	sleep 0.1
done

say "host: the guests it sees"
run kvpctl host list

say "guest: the host's items arrived in pool 3 (auto-external)"
sleep 0.5
run kvpctl list auto-external

say "guest: applications write to pool 1 (guest)"
run kvpctl set guest ProvisioningState succeeded
run kvpctl set guest AppVersion "2.4.1"

say "host: pushes into pool 0 (external) and reads the guest's pools"
run kvpctl host set demo-guest external Greeting "hello from the host"
run kvpctl host enum demo-guest guest
run kvpctl host enum demo-guest auto
run kvpctl -j host get demo-guest guest ProvisioningState

say "guest: sees the host's item, and the channel's state"
run kvpctl get external Greeting
run kvpctl status

say "host: deletes its item; the guest no longer has it"
run kvpctl host delete demo-guest external Greeting
run kvpctl get external Greeting
echo "(exit status $?: no such key)"

say "host: its identity (the host id is its public key's fingerprint)"
run kvpctl host identity

say "guest: install Windows Server 2022 Datacenter's generic AVMA key (slmgr /ipk)"
run kvpctl license install-key W3GNR-8DDXR-2TFRP-H8P33-DV9BG
i=0
until kvpctl -j license status | grep -q '"state":"Licensed"'; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "kvpd did not activate"; break; }
	sleep 0.1
done

say "guest: kvpd activated it against the host (slmgr /dlv)"
run kvpctl license status
run kvpctl license events

say "host: the guest's licence items in pool 2, the signed grant among them"
kvpctl host enum demo-guest auto | grep '^KvpLicense' | cut -c1-100

say "host: its history, its report per VM, and the audit of what the guest shows"
run kvpctl host history
run kvpctl host report
run kvpctl host audit

kill "$KVPD" "$HOSTD"
wait
rmmod kvp_vsock kvp
