#!/bin/sh
# Entrypoint of pv-ctrl-container: pv-ctrl on the container's permanent /var, socket where the
# container's pvcontrol looks first. Exit 4 (reboot requested) restarts it, as on a device.
mkdir -p /var/lib/pv-ctrl/storage /run/pantavisor/pv
while :; do
	@BINDIR@/pv-ctrl --storage /var/lib/pv-ctrl/storage --rundir /run/pantavisor/pv "$@"
	code=$?
	[ "$code" = 4 ] || exit "$code"
done
