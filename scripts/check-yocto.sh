#!/usr/bin/env bash
# Checks the Yocto layer (yocto/) with the real tools, against checkouts the user already has:
#   scripts/check-yocto.sh --poky DIR [--layer DIR]... [--kas DIR]... [options]
# It sets up a build directory (reused between runs: bitbake's parse cache), adds poky's layers,
# the --layer directories and this repository's yocto/, and runs `bitbake -p`, `bitbake -e pv-ctrl`
# (SRC_URI, SRCREV), `bitbake -n pv-ctrl`, `yocto-check-layer` on yocto/ with poky alone, and, for
# each kas checkout given, `kas dump` of both kas examples from a directory outside this
# repository. It never fetches nor builds third-party code itself, and sets BB_NO_NETWORK = "1".
# Not part of npm test (CI has no poky). yocto/README.md shows what it printed.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: scripts/check-yocto.sh --poky DIR [--layer DIR]... [--kas DIR]... [options]
  --poky DIR        poky checkout (scarthgap)
  --layer DIR       another layer to add (meta-openembedded/meta-oe, meta-virtualization,
                    meta-pantavisor, ...); repeat it. Give the layer directory itself.
  --kas DIR         a kas checkout (its source tree) to run `kas dump` of the examples with;
                    repeat it for several kas versions
  --build DIR       build directory (default: ${TMPDIR:-/tmp}/pv-ctrl-yocto-check); reused
  --machine M       MACHINE for the parse (default: poky's)
  --distro D        DISTRO for the parse (default: poky's)
  --pvcontrol       set PREFERRED_RPROVIDER_pvcontrol = "pv-ctrl" (as yocto/kas/pvcontrol.yml)
  --image IMAGE     also run `bitbake -g IMAGE` and report who provides pvcontrol in its graph
  --skip STEPS      comma-separated steps to leave out: parse,env,dry-run,graph,check-layer,kas
Run it as a non-root user (bitbake refuses root) with a UTF-8 locale (e.g. LANG=en_US.UTF-8).
EOF
}

die() {
	echo "check-yocto: $*" >&2
	exit 2
}

repo_root=$(cd "$(dirname "$0")/.." && pwd)
layer_dir="$repo_root/yocto"
poky=""
layers=()
kas_trees=()
build="${TMPDIR:-/tmp}/pv-ctrl-yocto-check"
machine=""
distro=""
pvcontrol=0
image=""
skip=","
while [ $# -gt 0 ]; do
	case "$1" in
	--poky) poky=$(cd "${2:?}" && pwd) || die "no directory $2"; shift 2 ;;
	--layer) layers+=("$(cd "${2:?}" && pwd)") || die "no directory $2"; shift 2 ;;
	--kas) kas_trees+=("$(cd "${2:?}" && pwd)") || die "no directory $2"; shift 2 ;;
	--build) build=${2:?}; shift 2 ;;
	--machine) machine=${2:?}; shift 2 ;;
	--distro) distro=${2:?}; shift 2 ;;
	--pvcontrol) pvcontrol=1; shift ;;
	--image) image=${2:?}; shift 2 ;;
	--skip) skip=",${2:?},"; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$poky" ] || { usage >&2; exit 2; }
[ -f "$poky/oe-init-build-env" ] || die "$poky is not a poky checkout (no oe-init-build-env)"
[ "$(id -u)" != 0 ] || die "bitbake refuses to run as root: run this as an ordinary user"
for layer in "${layers[@]}"; do
	[ -f "$layer/conf/layer.conf" ] || die "$layer is not a layer (no conf/layer.conf)"
done
mkdir -p "$build" || die "cannot create $build"
build=$(cd "$build" && pwd)
logs="$build/check-logs"
mkdir -p "$logs"

summary=()
failed=0
note() { summary+=("$1"); }
wanted() { [[ "$skip" != *",$1,"* ]]; }

# One shell per bitbake step: oe-init-build-env changes directory and environment (and reads
# unset variables).
in_build() {
	# shellcheck disable=SC1091
	(set +u && cd "$poky" && . ./oe-init-build-env "$build/bitbake" >/dev/null && "$@")
}

# poky's own layers, the given ones, then this one: written out, not `bitbake-layers add-layer`,
# so a rerun gives the same file.
{
	echo '# Written by pv-ctrl scripts/check-yocto.sh'
	echo 'POKY_BBLAYERS_CONF_VERSION = "2"'
	echo 'BBPATH = "${TOPDIR}"'
	echo 'BBFILES ?= ""'
	echo 'BBLAYERS ?= " \'
	for layer in "$poky/meta" "$poky/meta-poky" "$poky/meta-yocto-bsp" "${layers[@]}" "$layer_dir"; do
		echo "  $layer \\"
	done
	echo '"'
} >"$build/bblayers.conf.new"
in_build true || die "oe-init-build-env failed in $poky"
mv "$build/bblayers.conf.new" "$build/bitbake/conf/bblayers.conf"
{
	echo '# Written by pv-ctrl scripts/check-yocto.sh (auto.conf is read after local.conf)'
	echo 'BB_NO_NETWORK = "1"'
	echo "BB_NUMBER_THREADS = \"${BB_NUMBER_THREADS:-2}\""
	echo "BB_NUMBER_PARSE_THREADS = \"${BB_NUMBER_PARSE_THREADS:-2}\""
	[ -z "$machine" ] || echo "MACHINE = \"$machine\""
	[ -z "$distro" ] || echo "DISTRO = \"$distro\""
	[ "$pvcontrol" = 0 ] || echo 'PREFERRED_RPROVIDER_pvcontrol = "pv-ctrl"'
} >"$build/bitbake/conf/auto.conf"

# Warnings and errors that name this layer or its recipes (bitbake prints the recipe path).
ours() { grep -E '^(WARNING|ERROR)' "$1" | grep -E "$layer_dir|pv-ctrl|bun[_-]" || true; }

step() {
	local name=$1 log="$logs/$1.log"
	shift
	echo "== $name: $*" >&2
	in_build "$@" >"$log" 2>&1
	local status=$?
	[ $status = 0 ] || failed=1
	return $status
}

if wanted parse; then
	step parse bitbake -p
	status=$?
	log="$logs/parse.log"
	note "bitbake -p: exit $status, $(grep -c '^WARNING' "$log") warning(s), $(grep -c '^ERROR' "$log") error(s), of them ours: $(ours "$log" | wc -l)"
	ours "$log" | sed 's/^/    /' | while read -r line; do echo "$line"; done >"$logs/parse-ours.txt"
	grep -E '^(Parsing of|NOTE: Parsing|Summary)' "$log" | tail -2 | sed 's/^/    /' >>"$logs/parse-ours.txt"
fi

if wanted env; then
	step env bitbake -e pv-ctrl
	status=$?
	note "bitbake -e pv-ctrl: exit $status"
	grep -E '^(SRC_URI|SRCREV_pvctrl|PV|PVCTRL_LXC_DEPENDS|DEPENDS)=' "$logs/env.log" | sed 's/^/    /' >"$logs/env-vars.txt"
fi

if wanted dry-run; then
	step dry-run bitbake -n pv-ctrl
	status=$?
	note "bitbake -n pv-ctrl: exit $status, $(grep -E '^NOTE: Tasks Summary' "$logs/dry-run.log" | tail -1 | sed 's/^NOTE: //')"
fi

if [ -n "$image" ] && wanted graph; then
	# Which recipes the image builds that could provide pvcontrol (pn-buildlist: one per line).
	step graph bash -c "bitbake -g '$image' && grep -xE 'pv-ctrl|bun|pvcontrol|pantavisor-pvcontrol' pn-buildlist"
	status=$?
	note "bitbake -g $image: exit $status; in its pn-buildlist: $(grep -xE '[a-z0-9-]+' "$logs/graph.log" | tr '\n' ' ')"
fi

if wanted check-layer; then
	# poky alone plus this layer, in a build directory of its own (yocto-check-layer rewrites
	# bblayers.conf while it runs, and its world build must not see the --layer directories).
	check_build="$build/check-layer"
	(set +u && cd "$poky" && . ./oe-init-build-env "$check_build" >/dev/null &&
		cp "$build/bitbake/conf/auto.conf" conf/auto.conf &&
		sed -i '/^MACHINE\|^DISTRO\|^PREFERRED_RPROVIDER_pvcontrol/d' conf/auto.conf &&
		yocto-check-layer --no-auto-dependency "$layer_dir") >"$logs/check-layer.log" 2>&1
	status=$?
	[ $status = 0 ] || failed=1
	note "yocto-check-layer $layer_dir: exit $status"
	# "INFO: test_x (...)" then "INFO:  ... ok" on the next line: one line per test, then the verdict.
	awk '/^INFO: test_/ { name = $2 } /^INFO:  \.\.\. / && name { sub(/^INFO:  \.\.\. /, ""); print "    " name ": " $0; name = "" }
		/^INFO: Ran / || /^INFO: yocto \.\.\./ { sub(/^INFO: /, ""); print "    " $0 }' "$logs/check-layer.log" >"$logs/check-layer-summary.txt"
fi

# kas dump of both examples with each kas checkout, run from a directory outside this
# repository. Repositories the examples fetch are cloned from the --poky/--layer checkouts
# (KAS_PREMIRRORS), so nothing is fetched from the network; a pinned commit that a checkout
# lacks is replaced, for this check only, by the checkout's HEAD in a lock file of a scratch copy
# of this repository (kas reads <file>.lock.yml next to the file) and reported below.
if [ ${#kas_trees[@]} -gt 0 ] && wanted kas; then
	scratch="$build/kas"
	rm -rf "$scratch"
	mkdir -p "$scratch/work" "$scratch/elsewhere"
	git clone -q --shared "$repo_root" "$scratch/pv-ctrl" || die "cannot clone $repo_root"
	# The layer as it is in the working tree, committed or not.
	rm -rf "$scratch/pv-ctrl/yocto" && cp -a "$layer_dir" "$scratch/pv-ctrl/yocto"
	mirrors=""
	for tree in "$poky" "${layers[@]}"; do
		top=$(git -C "$tree" rev-parse --show-toplevel 2>/dev/null) || continue
		mirrors+="^https?://.*/$(basename "$top")(\\.git)?/?\$ $top"$'\n'
	done
	python3 - "$scratch/pv-ctrl" "$poky" "${layers[@]}" >"$logs/kas-locks.txt" <<'EOF' || die "cannot read the kas examples"
import os, subprocess, sys, yaml
root, checkouts = sys.argv[1], sys.argv[2:]
tops = {}
for tree in checkouts:
    try:
        top = subprocess.check_output(['git', '-C', tree, 'rev-parse', '--show-toplevel'], text=True).strip()
        tops[os.path.basename(top)] = top
    except subprocess.CalledProcessError:
        pass
def repos_of(path, seen):
    # The examples pin every repository in this repository's own files (string includes).
    if path in seen:
        return {}
    seen.add(path)
    with open(path) as f:
        config = yaml.safe_load(f)
    repos = {}
    for include in config.get('header', {}).get('includes', []):
        if isinstance(include, str):
            repos.update(repos_of(os.path.join(root, include), seen))
    for name, repo in (config.get('repos') or {}).items():
        repos.setdefault(name, {}).update(repo or {})
    return repos
for example in ('appengine-x86_64', 'raspberrypi-armv8'):
    path = os.path.join(root, 'yocto/kas/examples', example + '.yml')
    overrides = {}
    for name, repo in repos_of(path, set()).items():
        commit = repo.get('commit')
        top = tops.get(os.path.basename((repo.get('url') or '').rstrip('/')).removesuffix('.git'))
        if not commit or not top:
            continue
        if subprocess.run(['git', '-C', top, 'cat-file', '-e', commit + '^{commit}'], capture_output=True).returncode != 0:
            head = subprocess.check_output(['git', '-C', top, 'rev-parse', 'HEAD'], text=True).strip()
            overrides[name] = {'commit': head}
            print(f'{example}: {name} pinned to {commit}, not in {top}: using its HEAD {head}')
    if overrides:
        with open(os.path.join(root, 'yocto/kas/examples', example + '.lock.yml'), 'w') as f:
            yaml.safe_dump({'header': {'version': 14}, 'overrides': {'repos': overrides}}, f)
EOF
	for tree in "${kas_trees[@]}"; do
		version=$(cd "$tree" && python3 -c 'import kas; print(kas.__version__)' 2>/dev/null || echo "?")
		for example in appengine-x86_64 raspberrypi-armv8; do
			log="$logs/kas-$version-$example.log"
			(cd "$scratch/elsewhere" &&
				env KAS_WORK_DIR="$scratch/work" KAS_PREMIRRORS="$mirrors" PYTHONPATH="$tree" \
					python3 -m kas dump "$scratch/pv-ctrl/yocto/kas/examples/$example.yml") \
				>"$log" 2>"$log.stderr"
			status=$?
			[ $status = 0 ] || failed=1
			note "kas $version dump $example.yml (from $scratch/elsewhere): exit $status, $(grep -c -E 'WARNING|ERROR' "$log.stderr") warning/error line(s), target: $(sed -n '/^target:/,/^[a-z]/p' "$log" | grep -E '^- ' | tr -d '\n')"
		done
	done
fi

echo
echo "== Summary (logs in $logs)"
for line in "${summary[@]}"; do
	echo "$line"
	case "$line" in
	bitbake\ -p:*) cat "$logs/parse-ours.txt" 2>/dev/null ;;
	bitbake\ -e*) cat "$logs/env-vars.txt" 2>/dev/null ;;
	yocto-check-layer*) cat "$logs/check-layer-summary.txt" 2>/dev/null ;;
	esac
done
[ ! -s "${logs}/kas-locks.txt" ] || { echo "kas lock overrides:"; sed 's/^/    /' "$logs/kas-locks.txt"; }
exit $failed
