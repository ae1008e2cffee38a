/** Exit codes the appengine runner understands: start again after a reboot, stay down after a poweroff. */
export const EXIT_POWEROFF = 3;
export const EXIT_REBOOT = 4;
