#!/bin/sh
# Init of pv-example-unix-client (lxc.init.cmd). Every 5 s it connects to the "raw"
# service that pv-xconnect injects at $sock and logs what the server said. A missing
# socket is an expected state (the server is stopped, restarting, or the link is not
# set up yet), so failures are logged and the loop goes on.

# The overrides exist only so the unit test can run this script on the host.
sock=${PV_EXAMPLE_SOCKET:-/run/pv/services/raw.sock}
logfile=${PV_EXAMPLE_LOG:-/var/log/pv-example-client.log}
# Overlay data with persistence "boot" is only dropped at the next boot; cap the log so
# a long uptime cannot fill the storage. One old generation is kept.
log_limit=65536
interval=${PV_EXAMPLE_INTERVAL:-5}

log() {
	line="$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"
	echo "$line"
	# stdout reaches a console log only if the runtime gives the container a console,
	# hence the file; a read-only or missing /var must not stop the loop.
	{
		size=$(wc -c < "$logfile" 2>/dev/null || echo 0)
		[ "${size:-0}" -ge "$log_limit" ] && mv -f "$logfile" "$logfile.1"
		echo "$line" >> "$logfile"
	} 2>/dev/null
}

# See the server's init: PID 1 needs explicit traps to stop promptly.
ready=
trap 'log "stopping"; [ -n "$ready" ] && kill "$ready" 2>/dev/null; exit 0' TERM INT HUP PWR

log "connecting to $sock every ${interval}s"
# READY means "the loop runs": tell pv-ctrl in the background so the first connection
# attempts do not wait for it (pv-ctrl may not know the container for a moment).
(
	trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	n=0
	until pv-example signal ready >/dev/null 2>&1; do
		n=$((n + 1))
		[ "$n" -ge 60 ] && { log "no 200 for the ready signal after $n attempts"; exit 0; }
		sleep 1 &
		nap=$!
		wait "$nap"
	done
	log "ready signal accepted"
) &
ready=$!
while :; do
	if out=$(pv-example connect "$sock" 2>&1); then
		log "ok: $out"
	else
		log "failed: $out"
	fi
	# sleep in the background so a trapped signal interrupts the wait at once.
	sleep "$interval" &
	wait $!
done
