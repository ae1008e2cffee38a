#!/bin/sh
# The bundle and install steps of the pv-ctrl recipe (pv-ctrl_git.bb). They live in this one file
# so that bitbake and yocto/scripts/stage-install.sh (the layer's check without bitbake) run
# exactly the same commands.
#
#   pv-ctrl-build.sh bundle  SRC OUT
#       One JavaScript bundle, pv-ctrl.js, of the multicall entry (src/entry.ts: pv-ctrl, or
#       pvcontrol / pv-xconnect by a first argument), made with the build machine's Bun
#       (bun-native). It runs on the target's Bun (recipe bun).
#   pv-ctrl-build.sh install SRC BUILD DEST BINDIR LIBDIR DATADIR SYSCONFDIR SYSTEMD_UNITDIR FILES
#       Everything the packages ship, into DEST (bitbake's ${D}). BUILD holds the CMake build of
#       the addons (pvctrl_native.node, pvctrl_native_lazy.node, pvctrl-lxc-start, pvctrl-xconnect) and
#       BUILD/bundle the bundles; FILES
#       holds the recipe's files/ (launchers, service and socket units, init script).
set -eu

bundle() {
	src=$1
	out=$2
	mkdir -p "$out"
	bun build --target=bun --outfile="$out/pv-ctrl.js" "$src/src/entry.ts"
}

# Launchers: @BINDIR@ and @LIBDIR@ are the target's paths.
launcher() {
	sed -e "s|@BINDIR@|$bindir|g" -e "s|@LIBDIR@|$libdir|g" "$files/$1.wrapper" >"$dest$bindir/$1"
	chmod 0755 "$dest$bindir/$1"
}

install_all() {
	src=$1
	build=$2
	dest=$3
	bindir=$4
	libdir=$5
	datadir=$6
	sysconfdir=$7
	unitdir=$8
	files=$9
	pkglib="$dest$libdir/pv-ctrl"

	install -d "$dest$bindir" "$pkglib"
	install -m 0644 "$build/bundle/pv-ctrl.js" "$pkglib/"
	# Next to each other: src/native/index.ts looks for the lazy addon beside the core one (the
	# launcher's $PVCTRL_NATIVE_ADDON), src/native/lxc.ts for the start helper beside the lazy
	# addon, src/xconnect/command.ts for the native pv-xconnect beside the core.
	install -m 0755 "$build/pvctrl_native.node" "$build/pvctrl_native_lazy.node" "$build/pvctrl-lxc-start" "$build/pvctrl-xconnect" "$pkglib/"
	launcher pv-ctrl
	launcher pvcontrol
	launcher pv-xconnect

	# The example containers (x86_64 busybox inside) for the appengine: first boot with
	# --pvtx-dir $datadir/pv-ctrl/pvtx.d.
	install -d "$dest$datadir/pv-ctrl/pvtx.d"
	for example in "$src"/examples/pvtx.d/*.pvrexport.tgz; do
		[ -f "$example" ] || continue
		install -m 0644 "$example" "$dest$datadir/pv-ctrl/pvtx.d/"
	done

	install -d "$dest$unitdir" "$dest$sysconfdir/init.d"
	sed -e "s|@BINDIR@|$bindir|g" "$files/pv-ctrl.service" >"$dest$unitdir/pv-ctrl.service"
	chmod 0644 "$dest$unitdir/pv-ctrl.service"
	install -m 0644 "$files/pv-ctrl.socket" "$dest$unitdir/pv-ctrl.socket"
	sed -e "s|@BINDIR@|$bindir|g" "$files/pv-ctrl.init" >"$dest$sysconfdir/init.d/pv-ctrl"
	chmod 0755 "$dest$sysconfdir/init.d/pv-ctrl"
}

command=${1:-}
[ $# -gt 0 ] && shift
case $command in
bundle) bundle "$@" ;;
install) install_all "$@" ;;
*)
	echo "usage: $0 bundle SRC OUT | install SRC BUILD DEST BINDIR LIBDIR DATADIR SYSCONFDIR SYSTEMD_UNITDIR FILES" >&2
	exit 2
	;;
esac
