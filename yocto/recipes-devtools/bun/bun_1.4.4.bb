SUMMARY = "Bun JavaScript runtime (prebuilt)"
DESCRIPTION = "The Bun runtime pv-ctrl runs on, taken as released from the npm registry \
(@oven/bun-linux-*), for x86_64 and aarch64 with glibc or musl. Bun publishes no 32-bit ARM \
build, so no other host is compatible."
HOMEPAGE = "https://bun.com"
SECTION = "devel"

# Bun itself is MIT; the executable statically links JavaScriptCore (LGPL-2.0-or-later) and
# further third-party components under their own licenses (see Bun's licensing page). The npm
# package ships no license text beyond package.json's "license" field, checked here.
LICENSE = "MIT & LGPL-2.0-or-later"
LIC_FILES_CHKSUM = "file://package.json;beginline=7;endline=7;md5=f85e0b80d572b136a0a21dea7e1b642b"

COMPATIBLE_HOST = "(x86_64|aarch64).*-linux.*"

inherit pvctrl-needs-layers
PVCTRL_NEEDS_LAYER[openembedded-layer] = "the npm:// fetcher runs npm from nodejs-native"

def bun_npm_package(d):
    arch = d.getVar('HOST_ARCH')
    libc = 'glibc' if bb.data.inherits_class('native', d) else d.getVar('TCLIBC')
    packages = {
        ('x86_64', 'glibc'): 'bun-linux-x64-baseline',
        ('x86_64', 'musl'): 'bun-linux-x64-musl-baseline',
        ('aarch64', 'glibc'): 'bun-linux-aarch64',
        ('aarch64', 'musl'): 'bun-linux-aarch64-musl',
    }
    # Anything else is already refused by COMPATIBLE_HOST; keep parsing quiet for it.
    return packages.get((arch, libc), 'bun-linux-aarch64')

# x86_64 uses the "baseline" builds: they do not require AVX2, which not every x86_64 board has.
BUN_NPM_PACKAGE = "${@bun_npm_package(d)}"

SRC_URI = "npm://registry.npmjs.org/;package=@oven/${BUN_NPM_PACKAGE};version=${PV};destsuffix=bun"

S = "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}/bun"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
	install -d ${D}${bindir}
	install -m 0755 ${S}/bin/bun ${D}${bindir}/bun
}

# Never strip or split a Bun executable: single-file programs compiled with it keep their code
# in the executable, and the runtime is shipped exactly as released.
INHIBIT_PACKAGE_STRIP = "1"
INHIBIT_PACKAGE_DEBUG_SPLIT = "1"
INHIBIT_SYSROOT_STRIP = "1"
INSANE_SKIP:${PN} += "already-stripped ldflags"

# The musl build links libstdc++ and libgcc dynamically, and names libc as
# libc.musl-<arch>.so.1, which musl's loader resolves to itself but no package provides.
RDEPENDS:${PN}:append:libc-musl = " libstdc++ libgcc"
INSANE_SKIP:${PN}:append:libc-musl = " file-rdeps"

FILES:${PN} = "${bindir}/bun"

BBCLASSEXTEND = "native"
