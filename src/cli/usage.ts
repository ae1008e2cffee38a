/** Help texts of `pvcontrol` and of each command (printed by `--help` and on misuse). */

export type UsageTopic =
  | 'global'
  | 'ls'
  | 'containers'
  | 'groups'
  | 'signal'
  | 'cmd'
  | 'devmeta'
  | 'usrmeta'
  | 'buildinfo'
  | 'storage'
  | 'objects'
  | 'steps'
  | 'config'
  | 'conf'
  | 'graph'
  | 'daemons'
  | 'events';

const GLOBAL = `Usage: pvcontrol [options] <command> [arguments]
Drive Pantavisor through its local control socket (pv-ctrl).

Options (recognised only before the command word):
  -h             show this help and exit
  -v             trace every request and response on stderr
  -s <path>      control socket to use; default: $PVCTRL_SOCKET if set, else the
                 first socket found among /run/pantavisor/pv/pv-ctrl and
                 /pv/pv-ctrl, else /pantavisor/pv-ctrl (the path in containers)
  -f <path>      write the command's standard output to <path>
  -m <message>   commit message for "steps put" and "steps install"

Commands:
  ls | list                                  list the running containers
  containers <ls|start|stop|restart> [name]  container lifecycle ("container" also works)
  groups ls                                  list container groups
  signal <ready|alive>                       report this container's status
  cmd <operation> [argument]                 queue a state machine command
  devmeta <ls|save|delete> [key] [value]     device metadata
  usrmeta <ls|save|delete> [key] [value]     user metadata
  buildinfo                                  print the build manifest
  storage gc                                 run the garbage collector now
  objects <ls|put|get> ...                   content-addressed objects
  steps <ls|get|show-progress|put|install>   revisions
  config ls                                  configuration, legacy key names
  conf ls                                    configuration, full view ("configuration" also works)
  graph ls                                   xconnect service graph
  daemons <ls|start|stop|restart> [name]     helper daemons
  events [--json] [--type T]... [--container NAME]   follow the event stream

"pvcontrol <command> --help" describes the arguments of one command.

Output: the response body goes to stdout when the server answers 200, otherwise to
stderr, and the exit status says why:
  0    success (HTTP 200)
  1    usage error, socket not found, no response, or a local file problem
  48   not enough storage space (HTTP 507)
  60   uploaded object does not match its sha256
  70   state JSON rejected (HTTP 422 from parser, signature or storage checks)
  75   busy, try again later (HTTP 503)
  80   steps show-progress --follow: the update ended in ERROR (70: WONTGO)
  255  any other HTTP status (including 204)
`;

const TOPICS: Record<Exclude<UsageTopic, 'global'>, string> = {
  ls: `Usage: pvcontrol ls
List the containers of the running revision (same as "containers ls").
`,
  containers: `Usage: pvcontrol containers <ls|start|stop|restart> [name]
Container lifecycle ("container" is accepted as well as "containers").
  pvcontrol containers ls              list containers and their status
  pvcontrol containers start <name>    start a container stopped through the API
  pvcontrol containers stop <name>     stop a container (restart_policy "container" only)
  pvcontrol containers restart <name>  stop, then start again
`,
  groups: `Usage: pvcontrol groups ls
List the container groups of the running revision.
`,
  signal: `Usage: pvcontrol signal <ready|alive>
Report the calling container's status to Pantavisor.
  pvcontrol signal ready   the container reached its READY goal
  pvcontrol signal alive   keep-alive (not accepted by current servers)
`,
  cmd: `Usage: pvcontrol cmd <operation> [argument]
Queue a command for the Pantavisor state machine ("command" and "commands" also work).
  pvcontrol cmd run <revision>          run an installed revision
  pvcontrol cmd run-commit <revision>   run a revision and make it the rollback point
  pvcontrol cmd reboot [message]        reboot the device
  pvcontrol cmd poweroff [message]      power the device off
  pvcontrol cmd make-factory [revision] make a revision (default: running) the factory one
                                        (unclaimed devices only)
  pvcontrol cmd run-gc                  run the garbage collector
  pvcontrol cmd enable-ssh              start the SSH server until reboot
  pvcontrol cmd disable-ssh             stop the SSH server until reboot
  pvcontrol cmd go-remote               leave local mode and talk to the Hub again
  pvcontrol cmd unclaim                 forget the Hub credentials
  pvcontrol cmd defer-reboot <seconds>  postpone a pending reboot (debug shell only)
`,
  devmeta: `Usage: pvcontrol devmeta <ls|save|delete> [key] [value]
Device metadata.
  pvcontrol devmeta ls                  list device metadata
  pvcontrol devmeta save <key> [value]  create or update a key ("upload" also works)
  pvcontrol devmeta delete <key>        remove a key
`,
  usrmeta: `Usage: pvcontrol usrmeta <ls|save|delete> [key] [value]
User metadata.
  pvcontrol usrmeta ls                  list user metadata
  pvcontrol usrmeta save <key> [value]  create or update a key
  pvcontrol usrmeta delete <key>        remove a key
`,
  buildinfo: `Usage: pvcontrol buildinfo
Print the build manifest of the running Pantavisor (may be empty).
`,
  storage: `Usage: pvcontrol storage gc
Run the garbage collector now and print how many bytes of objects it removed.
`,
  objects: `Usage: pvcontrol objects <ls|put|get> [path] [sha256]
Content-addressed objects.
  pvcontrol objects ls                 list stored objects
  pvcontrol objects put <path> <sha>   upload a file as object <sha>; <path> may be
                                       "-<size>" to send exactly <size> bytes from stdin,
                                       or "-" to send stdin until it ends
  pvcontrol objects get <sha>          download an object to stdout (or to the -f file;
                                       nothing is written there if the server refuses)
`,
  steps: `Usage: pvcontrol steps <ls|get|show-progress|put|install> [path] [revision]
Revisions ("steps").
  pvcontrol steps ls                            list revisions
  pvcontrol steps get <revision>                print a revision's state JSON
                                                (<revision>: N, locals/<name> or current)
  pvcontrol steps show-progress <revision>      print a revision's progress JSON
  pvcontrol steps show-progress --follow <revision>
        draw the progress live (a bar on a terminal, else a line per change) until the
        update ends; exits 0 for DONE/UPDATED, 70 for WONTGO, 80 for ERROR
  pvcontrol steps put <path> locals/<name>      install a state JSON file ("-" reads stdin);
                                                -m sets the commit message
  pvcontrol steps install <file.tgz> [locals/<name>]
        install a compressed step: uploads the objects the device lacks, then the state,
        and prints {"revision":"<name>"}. Accepted layouts: a "pvr export" tarball
        (json + objects/), or a tarball holding state.json with an optional objects/.
        The default name is locals/<sha256 of the tarball>; a revision that already
        exists is not installed again. -m sets the commit message.
`,
  config: `Usage: pvcontrol config ls
Print the configuration with its legacy key names.
`,
  conf: `Usage: pvcontrol conf ls
Print the full configuration ("configuration" also works).
`,
  graph: `Usage: pvcontrol graph ls
Print the xconnect service graph.
`,
  events: `Usage: pvcontrol events [--json] [--type T]... [--container NAME]
Print the daemon's events as they happen (GET /events), one readable line each.
  --json             one JSON object per line instead (the stream's NDJSON form)
  --type T           only events of type T (repeat, or T1,T2): container, group, revision,
                     meta, daemon, signal, object, command, driver, xconnect
  --container NAME   only events about container NAME
Runs until interrupted or the daemon stops. Types and fields: docs/events.md.
`,
  daemons: `Usage: pvcontrol daemons <ls|start|stop|restart> [name]
Helper daemons run by Pantavisor.
  pvcontrol daemons ls              list daemons with pid and respawn flag
  pvcontrol daemons start <name>    start a daemon
  pvcontrol daemons stop <name>     stop a daemon
  pvcontrol daemons restart <name>  stop, then start if the stop succeeded
`,
};

export function usageText(topic: UsageTopic): string {
  return topic === 'global' ? GLOBAL : TOPICS[topic];
}
