#!/bin/sh
# Init of pv-example-unix-server (lxc.init.cmd). Exports the "raw" Unix service and
# tells Pantavisor it is READY (its status_goal) only once the socket really accepts
# connections, so the goal means "consumers can connect now".

# The overrides exist only so the unit test can run this script on the host.
sock=${PV_EXAMPLE_SOCKET:-/run/example/raw.sock}
logfile=${PV_EXAMPLE_LOG:-/var/log/pv-example-server.log}
# pv-ctrl may not have registered the container yet when init starts, and the app
# group's goal timeout is 30 s, so keep asking for a bit longer than that.
ready_attempts=60

# stdout is the console log only if the runtime gives the container a console (plain
# lxc-start -d hands init /dev/null), so the few lines are also kept in a file; a
# read-only or missing /var must not stop the server.
log() {
	line="$(date -u +%Y-%m-%dT%H:%M:%SZ) pv-example-server: $*"
	echo "$line"
	echo "$line" 2>/dev/null >> "$logfile"
}

pv-example serve "$sock" &
server=$!

# As PID 1 of the container sh gets no default signal handling: without traps a stop
# would only end with the runtime's forced kill after its grace period.
alive=
trap 'kill "$server" $alive 2>/dev/null; wait "$server"; exit 0' TERM INT HUP PWR

while [ ! -S "$sock" ]; do
	if ! kill -0 "$server" 2>/dev/null; then
		wait "$server"
		status=$?
		log "server exited with $status before creating $sock"
		exit "$status"
	fi
	usleep 100000
done
log "listening on $sock"

n=0
until out=$(pv-example signal ready 2>&1); do
	n=$((n + 1))
	log "ready signal attempt $n: ${out:-no answer}"
	if [ "$n" -ge "$ready_attempts" ]; then
		log "no 200 for the ready signal after $n attempts; serving anyway"
		break
	fi
	sleep 1
done
[ "$n" -lt "$ready_attempts" ] && log "ready signal accepted"

# The server opted into a liveness deadline (run.json "alive"); report every 20 s.
# Its sleep runs in the background so a stop ends the loop at once, not 20 s later.
(
	trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	while kill -0 "$server" 2>/dev/null; do
		pv-example signal alive >/dev/null 2>&1
		sleep 20 &
		nap=$!
		wait "$nap"
	done
) &
alive=$!

# The container lives exactly as long as the server: if it dies, init exits and the
# group's auto-recovery decides what happens next.
wait "$server"
status=$?
log "server exited with $status"
exit "$status"
