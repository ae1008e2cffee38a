SUMMARY = "pv-ctrl and pvcontrol in a Pantavisor container (pvrexport)"
DESCRIPTION = "A container for trying pv-ctrl on a board next to Pantavisor: the daemon serves \
its own socket (/run/pantavisor/pv/pv-ctrl inside the container) over storage on a permanent \
volume, and the container's pvcontrol talks to it. The device's control plane stays Pantavisor's."
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

inherit image container-pvrexport pvctrl-needs-layers
PVCTRL_NEEDS_LAYER[openembedded-layer] = "it installs pv-ctrl and bun, fetched with npm://"

# Bun exists for x86_64 and aarch64 only.
COMPATIBLE_HOST = "(x86_64|aarch64).*-linux.*"

IMAGE_BASENAME = "pv-ctrl-container"
IMAGE_FSTYPES = "pvrexportit"
IMAGE_FEATURES = ""
IMAGE_LINGUAS = ""
NO_RECOMMENDATIONS = "1"
# container-pvrexport adds "pvcontrol": with PREFERRED_RPROVIDER_pvcontrol = "pv-ctrl" that is
# pv-ctrl's (yocto/kas/pvcontrol.yml), otherwise the shell tool, which speaks the same API.
IMAGE_INSTALL = "busybox pv-ctrl"

SRC_URI += "file://${BPN}.args.json \
            file://pv-ctrl-container-start.sh \
           "

PVR_APP_ADD_GROUP = "app"
PVR_APP_ADD_EXTRA_ARGS += "--config=Entrypoint=${bindir}/pv-ctrl-container-start"

install_start_script() {
	install -d ${IMAGE_ROOTFS}${bindir}
	sed 's|@BINDIR@|${bindir}|g' ${WORKDIR}/pv-ctrl-container-start.sh > ${IMAGE_ROOTFS}${bindir}/pv-ctrl-container-start
	chmod 0755 ${IMAGE_ROOTFS}${bindir}/pv-ctrl-container-start
}
ROOTFS_POSTPROCESS_COMMAND += "install_start_script; "
