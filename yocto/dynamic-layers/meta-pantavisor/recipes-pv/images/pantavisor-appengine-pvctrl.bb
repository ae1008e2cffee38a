SUMMARY = "Pantavisor appengine image with pv-ctrl (Bun) and its pvcontrol"
DESCRIPTION = "meta-pantavisor's appengine docker image, plus the pv-ctrl daemon, the Bun \
runtime, pv-ctrl's pvcontrol in place of the shell tool, and the example containers \
(/usr/share/pv-ctrl/pvtx.d). See yocto/README.md for running it."

LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

# meta-pantavisor keeps the appengine image description in an .inc next to its recipe (now under
# dynamic-layers/virtualization-layer, earlier in recipes-pv/images): look in both (BBPATH has
# every layer), and skip this image when neither is there.
def pvctrl_appengine_inc(d):
    import os
    candidates = ['dynamic-layers/virtualization-layer/recipes-pv/images/pantavisor-appengine.inc',
                  'recipes-pv/images/pantavisor-appengine.inc']
    for layer in (d.getVar('BBPATH') or '').split(':'):
        for candidate in candidates:
            if layer and os.path.exists(os.path.join(layer, candidate)):
                return os.path.join(layer, candidate)
    return 'pantavisor-appengine-inc-not-found.inc'

PVCTRL_APPENGINE_INC := "${@pvctrl_appengine_inc(d)}"
include ${PVCTRL_APPENGINE_INC}

inherit pvctrl-needs-layers
PVCTRL_NEEDS_LAYER[openembedded-layer] = "it installs pv-ctrl and bun, fetched with npm://"
PVCTRL_NEEDS_LAYER[virtualization-layer] = "meta-pantavisor's appengine image is built on it"

python () {
    import os
    if not os.path.isabs(d.getVar('PVCTRL_APPENGINE_INC')):
        raise bb.parse.SkipRecipe("meta-pantavisor's pantavisor-appengine.inc not found")
}

COMPATIBLE_HOST = "(x86_64|aarch64).*-linux.*"

DOCKER_IMAGE_NAME = "pantavisor-appengine-pvctrl"
DOCKER_IMAGE_TAG = "1.0"

CORE_IMAGE_EXTRA_INSTALL:remove = "pvcontrol pantavisor-pvcontrol"
CORE_IMAGE_EXTRA_INSTALL += "pv-ctrl pv-ctrl-pvcontrol pv-ctrl-examples"
