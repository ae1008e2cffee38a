SUMMARY = "pv-ctrl: Pantavisor's local control plane on Bun, and the pvcontrol CLI"
DESCRIPTION = "The pv-ctrl daemon (REST API on a Unix socket, caller identity from the kernel) \
bundled for the Bun runtime, its native addon (Node-API: caller credentials, object ingest, \
liblxc, libkmod) built with CMake, and pvcontrol, packaged to replace the shell tool."
HOMEPAGE = "https://github.com/pantavisor"
SECTION = "base"

# pv-ctrl is MIT (package.json "license"); the addon compiles node-addon-api's and
# node-api-headers' headers in (both MIT).
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://package.json;beginline=6;endline=6;md5=f85e0b80d572b136a0a21dea7e1b642b \
                    file://../node-addon-api/LICENSE.md;md5=fc3ff1120869be6b3cce17f9a06bfe2e \
                    file://../node-api-headers/LICENSE;md5=6adb2909701d4605b4b2ae1a9b25d8bd"

# Only where Bun runs: x86_64 and aarch64 (glibc or musl); there is no 32-bit ARM Bun.
COMPATIBLE_HOST = "(x86_64|aarch64).*-linux.*"

# The sources: by default the commit checked out in the repository this layer lives in
# (PVCTRL_TREE, set in conf/layer.conf). Set PVCTRL_SRC_URI and SRCREV to build another one, e.g.
#   PVCTRL_SRC_URI = "git://example.com/pv-ctrl.git;protocol=https;branch=main"
#   SRCREV_pvctrl = "<commit>"
def pvctrl_tree_head(d):
    import subprocess
    try:
        return subprocess.check_output(['git', '-C', d.getVar('PVCTRL_TREE'), 'rev-parse', 'HEAD'],
                                       stderr=subprocess.DEVNULL, text=True).strip()
    except Exception:
        return 'INVALID'

def pvctrl_tree_version(d):
    import json, os
    try:
        with open(os.path.join(d.getVar('PVCTRL_TREE'), 'package.json')) as f:
            return json.load(f)['version']
    except Exception:
        return '0.0.0'

PVCTRL_SRC_URI ??= "git://${PVCTRL_TREE};protocol=file;nobranch=1"
SRCREV_pvctrl ??= "${@pvctrl_tree_head(d)}"
SRCREV_FORMAT = "pvctrl"
# The default SRCREV follows the checkout's HEAD: parse again every time.
BB_DONT_CACHE = "${@'1' if d.getVar('PVCTRL_SRC_URI').startswith('git://' + d.getVar('PVCTRL_TREE')) else ''}"

PV = "${@pvctrl_tree_version(d)}+git"

# Node-API headers for the addon, pinned as in package-lock.json (no cmake-js inside bitbake:
# it would replace the toolchain's flags; CMakeLists.txt takes the include dirs as CMAKE_JS_INC).
PVCTRL_NODE_API_HEADERS_VERSION = "1.9.0"
PVCTRL_NODE_ADDON_API_VERSION = "8.9.2"

SRC_URI = "${PVCTRL_SRC_URI};name=pvctrl \
           npm://registry.npmjs.org/;package=node-api-headers;version=${PVCTRL_NODE_API_HEADERS_VERSION};destsuffix=node-api-headers \
           npm://registry.npmjs.org/;package=node-addon-api;version=${PVCTRL_NODE_ADDON_API_VERSION};destsuffix=node-addon-api \
           file://pv-ctrl-build.sh \
           file://pv-ctrl.wrapper \
           file://pvcontrol.wrapper \
           file://pv-xconnect.wrapper \
           file://pv-ctrl.service \
           file://pv-ctrl.socket \
           file://pv-ctrl.init \
           "

PVCTRL_UNPACKDIR = "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}"
S = "${PVCTRL_UNPACKDIR}/git"

# liblxc: meta-virtualization's lxc by default; dynamic-layers/meta-pantavisor switches to the
# LXC that Pantavisor itself uses, so an image never carries two liblxc.so.1.
PVCTRL_LXC_DEPENDS ??= "lxc"
DEPENDS = "bun-native openssl kmod ${PVCTRL_LXC_DEPENDS}"

inherit cmake pkgconfig systemd update-rc.d pvctrl-needs-layers

PVCTRL_NEEDS_LAYER[openembedded-layer] = "the npm:// fetcher runs npm from nodejs-native; bun-native too"
# Withdrawn by dynamic-layers/meta-pantavisor, which links meta-pantavisor's lxc-pv instead.
PVCTRL_NEEDS_LAYER[virtualization-layer] = "pv-ctrl links liblxc: add meta-virtualization, or meta-pantavisor (lxc-pv)"

# The addon only: plain CMake on native/ (the daemon itself is JavaScript, bundled below).
OECMAKE_SOURCEPATH = "${S}/native"
EXTRA_OECMAKE = "'-DCMAKE_JS_INC=${PVCTRL_UNPACKDIR}/node-api-headers/include;${PVCTRL_UNPACKDIR}/node-addon-api'"

do_compile:append() {
	sh ${PVCTRL_UNPACKDIR}/pv-ctrl-build.sh bundle ${S} ${B}/bundle
}

do_install() {
	sh ${PVCTRL_UNPACKDIR}/pv-ctrl-build.sh install ${S} ${B} ${D} ${bindir} ${libdir} ${datadir} ${sysconfdir} ${systemd_system_unitdir} ${PVCTRL_UNPACKDIR}
}

# One program bundle (src/entry.ts: pv-ctrl, pvcontrol and pv-xconnect chosen by a first
# argument) in a package of its own, shared by the daemon and the CLI packages.
PACKAGES =+ "${PN}-bundle ${PN}-pvcontrol ${PN}-examples"

FILES:${PN}-bundle = "${libdir}/pv-ctrl/pv-ctrl.js"
RDEPENDS:${PN}-bundle = "bun"

FILES:${PN} = "${bindir}/pv-ctrl \
               ${bindir}/pv-xconnect \
               ${libdir}/pv-ctrl/pvctrl_native.node \
               ${libdir}/pv-ctrl/pvctrl_native_lazy.node \
               ${libdir}/pv-ctrl/pvctrl-lxc-start \
               ${libdir}/pv-ctrl/pvctrl-xconnect \
               ${systemd_system_unitdir}/pv-ctrl.service \
               ${systemd_system_unitdir}/pv-ctrl.socket \
               ${sysconfdir}/init.d/pv-ctrl \
               "
RDEPENDS:${PN} = "bun ${PN}-bundle"

# pvcontrol replaces the shell tool (recipe pvcontrol, or pantavisor-pvcontrol in newer
# meta-pantavisor): select it with PREFERRED_RPROVIDER_pvcontrol = "pv-ctrl".
FILES:${PN}-pvcontrol = "${bindir}/pvcontrol"
RDEPENDS:${PN}-pvcontrol = "bun ${PN}-bundle"
RPROVIDES:${PN}-pvcontrol = "pvcontrol"
RCONFLICTS:${PN}-pvcontrol = "pvcontrol pantavisor-pvcontrol"
RREPLACES:${PN}-pvcontrol = "pvcontrol pantavisor-pvcontrol"

# The example containers of the test plan (x86_64 payloads: for the appengine).
FILES:${PN}-examples = "${datadir}/pv-ctrl/pvtx.d"
ALLOW_EMPTY:${PN}-examples = "1"

# Type=notify with a watchdog; the socket unit passes the API socket (socket activation), so
# connections wait in it while the daemon restarts.
SYSTEMD_SERVICE:${PN} = "pv-ctrl.service pv-ctrl.socket"
SYSTEMD_AUTO_ENABLE:${PN} ?= "enable"
INITSCRIPT_NAME = "pv-ctrl"
INITSCRIPT_PARAMS = "defaults 30"
