const USAGE = `Usage: versa <command> [options]

Commands:
  start                       Start a Versa server
      --port N                  port to listen on (default 4566)
      --host H                  address to listen on (default 127.0.0.1)
      --data-dir DIR            where data is kept (default ./.versa)
      --store URL               keep state in PostgreSQL (postgres://USER@HOST:PORT/DB), shared by several nodes
      --time-scale N            run the platform clock N times faster (default 1)
      --max-environments N      most execution environments alive at once (default 32)
      --credentials FILE        accept only requests signed by this AWS credentials file's keys
      --allowed-hosts H,...     Host names served besides loopback ones (DNS-rebinding defence)
      --cors-origins O,...      origins whose pages may call the AWS APIs
      --metrics-token T         bearer token for /_versa/metrics from other machines
      --function-access A       what functions' own keys may call: scoped (default; data plane and reads) or full
  invoke FUNCTION[:QUALIFIER] Invoke a function and print its answer
      --payload JSON            the event (default {})
      --count N                 invoke N times and print how many each version served
      --endpoint-url URL        the Versa server (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)
  logs FUNCTION               Print the function's log events, across its streams, in time order
      --follow                  keep printing new events until Ctrl-C
      --since 10m               only events from the last N s, m, h, d or w
  apis                        List REST APIs with each stage's URL, deployment and canary share
  canary API_ID STAGE --percent N    Send N% of a stage's requests to its canary
  canary promote API_ID STAGE        Promote the canary's deployment to the stage
  canary remove API_ID STAGE         Remove the stage's canary settings
  alarms [--state S]          List metric alarms with their state and why
  deployments                 List CodeDeploy deployments, newest first, and why each ended
      --application A           only this application's
      --group G                 only this deployment group's (with --application)
  deployments watch ID        Follow a deployment live: traffic, lifecycle events, alarms, outcome
  deployments stop ID         Stop a deployment
      --rollback                and put the alias back wholly on the current version
  deploy                      Deploy a SAM template as a stack (as \`sam deploy\`), following the rollout live
      --stack-name NAME         the stack (required)
      --template-file FILE      the template (default template.yaml)
      --parameter-overrides K=V ...   template parameter values
      --no-execute-changeset    only print the change set
  rollback --stack-name NAME  Stop the stack's deployment with rollback, or move its aliases back to where
                              the last deploy found them
  delete --stack-name NAME    Delete a stack and everything it created
  stacks                      List stacks with their status and outputs
  demo                        Play the tutorials on a throwaway server at --time-scale 60; watch in the console
      --keep                    keep the server running afterwards (Ctrl-C to stop)
      --port N                  port of the demo server (default 4566; 0 for any free port)
  help                        Show this help

Commands that talk to a server take --endpoint-url (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566).
`;

/** Runs the `versa` command line; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    // Each command's module is loaded when it runs: the client commands pull in the AWS SDK, which
    // `versa start` does not need and would spend a few hundred milliseconds loading before it listens.
    case 'start':
      return (await import('./start.js')).startCommand(rest);
    case 'invoke':
      return (await import('./invoke.js')).invokeCommand(rest);
    case 'logs':
      return (await import('./logs.js')).logsCommand(rest);
    case 'apis':
      return (await import('./apis.js')).apisCommand(rest);
    case 'canary':
      return (await import('./canary.js')).canaryCommand(rest);
    case 'alarms':
      return (await import('./alarms.js')).alarmsCommand(rest);
    case 'deployments':
      return (await import('./deployments.js')).deploymentsCommand(rest);
    case 'deploy':
      return (await import('./stacks.js')).deployCommand(rest);
    case 'rollback':
      return (await import('./stacks.js')).rollbackCommand(rest);
    case 'delete':
      return (await import('./stacks.js')).deleteCommand(rest);
    case 'stacks':
      return (await import('./stacks.js')).stacksCommand(rest);
    case 'demo':
      return (await import('./demo.js')).demoCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`versa: unknown command '${command}'.\n\n${USAGE}`);
      return 2;
  }
}
