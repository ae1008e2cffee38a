#!/usr/bin/env bash
# The pv-ctrl recipe's build without bitbake: runs the recipe's own compile and install commands
# against a staging folder, so the layer's checks (test/unit/yocto.test.ts) can compare what gets
# installed with the recipe's FILES lists.
#
#   yocto/scripts/stage-install.sh STAGE      prints the installed files (one path a line)
#
# Layout, as bitbake has it:
#   STAGE/work   WORKDIR (= UNPACKDIR): the recipe's file:// files, and the npm:// packages
#                (node-api-headers, node-addon-api) at their destsuffix, taken from node_modules
#                after checking they are the versions the recipe pins
#   STAGE/build  B     STAGE/image  D     S = this working tree (the recipe fetches its commit)
#
# What comes from the recipe text itself, so it cannot drift: the file:// and npm:// entries of
# SRC_URI, OECMAKE_SOURCEPATH and EXTRA_OECMAKE, and the bodies of do_compile:append and
# do_install, which are run as written. What is emulated: cmake.bbclass's configure and compile
# (same source path and EXTRA_OECMAKE, the build machine's compiler and default generator instead
# of the target toolchain and Ninja), and bun-native (node_modules/.bin/bun).
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 STAGE" >&2
	exit 2
fi
layer=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$layer/.." && pwd)
recipe="$layer/recipes-pv/pv-ctrl/pv-ctrl_git.bb"
files="$layer/recipes-pv/pv-ctrl/files"
stage=$(mkdir -p "$1" && cd "$1" && pwd)

# bitbake's variables for a scarthgap target without usrmerge.
S=$repo
WORKDIR=$stage/work
UNPACKDIR=$WORKDIR
PVCTRL_UNPACKDIR=$WORKDIR
B=$stage/build
D=$stage/image
prefix=/usr
bindir=/usr/bin
libdir=/usr/lib
datadir=/usr/share
sysconfdir=/etc
systemd_system_unitdir=/lib/systemd/system
export S WORKDIR UNPACKDIR PVCTRL_UNPACKDIR B D prefix bindir libdir datadir sysconfdir systemd_system_unitdir
rm -rf "$WORKDIR" "$D"
mkdir -p "$WORKDIR" "$B" "$D"

# bitbake expands ${NAME} references before a shell ever sees the text (also inside quotes).
bb_expand() {
	local text=$1 name
	while [[ $text =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
		name=${BASH_REMATCH[1]}
		text=${text//\$\{$name\}/${!name}}
	done
	printf '%s' "$text"
}

# A simple assignment of the recipe (VAR = "value" on one line), bitbake references left as is.
recipe_value() {
	sed -n "s/^$1 = \"\\(.*\\)\"\$/\\1/p" "$recipe" | head -n 1
}

# SRC_URI, joined over its continuation lines.
src_uri=$(awk '/^SRC_URI = "/ {f=1; print; if (gsub(/"/, "\"") >= 2) exit; next} f {print; if (/"/) exit}' "$recipe" | tr -d '\\' | tr '\n' ' ')

# Unpack: file:// entries from files/ (the recipe's FILESPATH), npm:// ones from node_modules.
for entry in $src_uri; do
	case $entry in
	\"*) entry=${entry#\"} ;;
	esac
	entry=${entry%\"}
	case $entry in
	file://*)
		name=${entry#file://}
		name=${name%%;*}
		cp -a "$files/$name" "$WORKDIR/$name"
		;;
	npm://*)
		package=$(printf '%s' "$entry" | sed -n 's/.*;package=\([^;]*\).*/\1/p')
		version=$(printf '%s' "$entry" | sed -n 's/.*;version=\([^;]*\).*/\1/p')
		destsuffix=$(printf '%s' "$entry" | sed -n 's/.*;destsuffix=\([^;]*\).*/\1/p')
		# ${PVCTRL_NODE_...} references resolve to the recipe's pins.
		case $version in
		'${'*)
			var=${version#\$\{}
			var=${var%\}}
			version=$(recipe_value "$var")
			;;
		esac
		installed=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo/node_modules/$package/package.json" | head -n 1)
		if [ "$installed" != "$version" ]; then
			echo "stage-install: the recipe pins $package $version, node_modules has $installed" >&2
			exit 1
		fi
		cp -a "$repo/node_modules/$package" "$WORKDIR/${destsuffix:-npm}"
		;;
	esac
done

# cmake.bbclass: configure in B with the recipe's source path and EXTRA_OECMAKE, then build.
sourcepath=$(recipe_value OECMAKE_SOURCEPATH)
extra=$(recipe_value EXTRA_OECMAKE)
sourcepath=$(bb_expand "$sourcepath")
eval "set -- $(bb_expand "$extra")"
(cd "$B" && cmake -DCMAKE_INSTALL_PREFIX:PATH="$prefix" -DCMAKE_BUILD_TYPE=Release "$sourcepath" "$@" -Wno-dev) >&2
cmake --build "$B" --parallel "$(nproc)" >&2

# The recipe's own task bodies, as written.
task_body() {
	awk -v start="^$1\\\\(\\\\) \\\\{\$" '$0 ~ start {f=1; next} f && /^}/ {exit} f {print}' "$recipe"
}
compile_append=$(task_body 'do_compile:append')
install_body=$(task_body 'do_install')
if [ -z "$compile_append" ] || [ -z "$install_body" ]; then
	echo "stage-install: do_compile:append or do_install not found in $recipe" >&2
	exit 1
fi
export PATH="$repo/node_modules/.bin:$PATH"
(cd "$B" && eval "$(bb_expand "$compile_append")") >&2
(cd "$B" && eval "$(bb_expand "$install_body")") >&2

cd "$D"
find . \( -type f -o -type l \) | sed 's|^\.||' | LC_ALL=C sort
