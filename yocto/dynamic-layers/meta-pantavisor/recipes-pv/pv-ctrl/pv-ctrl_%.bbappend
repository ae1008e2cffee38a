# With meta-pantavisor: link the LXC that Pantavisor itself runs (lxc-pv, or lxc6-pv with the
# lxc-next feature), so an image never carries two liblxc.so.1.
PVCTRL_LXC_DEPENDS = "${@bb.utils.contains('PANTAVISOR_FEATURES', 'lxc-next', 'lxc6-pv', 'lxc-pv', d)}"
PVCTRL_NEEDS_LAYER[virtualization-layer] = ""
