/**
 * What the appengine image's pantavisor.config sets, applied when the daemon is given no config
 * file: pv-ctrl's own factory revision (`{"#spec":…}` without a BSP) is only valid in appengine
 * mode, and the demo and tests run as an appengine. A real board passes its own `--config`.
 * One difference: the debug SSH server stays off until ENABLE_SSH (the reference appengine
 * enables it), so that a daemon never opens a network port nobody asked for.
 */
export const APPENGINE_CONFIG_TEXT = `# built-in appengine defaults (the reference appengine's pantavisor.config values)
PV_SYSTEM_INIT_MODE=appengine
PV_BOOTLOADER_TYPE=uboot
PV_CONTROL_REMOTE=0
PV_DEBUG_SSH=0
PV_SECUREBOOT_MODE=disabled
PV_SECUREBOOT_HANDLERS=0
PV_LOG_LEVEL=4
PV_LOG_CAPTURE_DMESG=0
PV_LOG_SERVER_OUTPUTS=filetree
PV_UPDATER_COMMIT_DELAY=5
PV_UPDATER_GOALS_TIMEOUT=10
PV_WDT_MODE=disabled
`;
