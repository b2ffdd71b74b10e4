// PM2: `pm2 start ecosystem.config.cjs` (or `ENET_PORT=7800 pm2 start ecosystem.config.cjs` — every
// ENET_* variable enet-server reads is passed through; see `node dist/cli/server.js --help`).
// The server tells PM2 it is ready only once its UDP port is bound and its actors are up
// (wait_ready + process.send('ready')); on SIGINT (pm2 stop/restart/reload) it stops gracefully —
// peers are told "Server stopped" — within 4 s, under kill_timeout. A crash of the whole process is
// PM2's to restart; a crashed actor thread is the supervisor's. One process per UDP port: PM2's
// cluster mode cannot share a UDP socket, so run several apps (ports) for several processes.
//
// A fleet on one machine: `ENET_FLEET=3 ENET_CLUSTER_REDIS=redis://127.0.0.1:6379 pm2 start
// ecosystem.config.cjs` runs 3 apps (enet-server-0 … -2) on ENET_PORT, ENET_PORT+1, ENET_PORT+2,
// each named in the fleet <ENET_APP_NAME>-<i> (README "Running a fleet").
// Logs: logs/<app name>.out.log and .err.log, one pair per app (a second single instance:
// `ENET_APP_NAME=game-2 ENET_PORT=7778 pm2 start ecosystem.config.cjs` → logs/game-2.*.log).
const env = (name, fallback) => process.env[name] ?? fallback;
const fleet = Number(env('ENET_FLEET', 0));
const basePort = Number(env('ENET_PORT', 7777));
const baseName = env('ENET_APP_NAME', 'enet-server');

const app = (name, port, { serverId, logs = name } = {}) => ({
  name,
  script: 'dist/cli/server.js',
  cwd: __dirname,
  exec_mode: 'fork',
  instances: 1,
  wait_ready: true,
  listen_timeout: 15000, // createServer() resolves once bound and every game actor ran onStart
  kill_timeout: 5000, // the graceful stop gives up after 4 s (src/supervisor/process.ts)
  max_memory_restart: env('ENET_MAX_MEMORY', '1G'),
  restart_delay: 100,
  exp_backoff_restart_delay: 100,
  // Each app its own files, named after it (ENET_APP_NAME, -<i> in a fleet): a second instance
  // (ENET_APP_NAME=game-2) never writes into the first one's logs. ENET_LOG_OUT/ERR override (one app).
  out_file: fleet > 0 ? `logs/${logs}.out.log` : env('ENET_LOG_OUT', `logs/${logs}.out.log`),
  error_file: fleet > 0 ? `logs/${logs}.err.log` : env('ENET_LOG_ERR', `logs/${logs}.err.log`),
  merge_logs: true,
  time: true,
  env: {
    NODE_ENV: 'production',
    ENET_BIND: env('ENET_BIND', '0.0.0.0'),
    ENET_MAX_PEERS: env('ENET_MAX_PEERS', 1024),
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('ENET_'))),
    ENET_PORT: port,
    ...(serverId === undefined ? {} : { ENET_SERVER_ID: serverId }),
  },
});

module.exports = {
  apps: fleet > 0
    ? Array.from({ length: fleet }, (_, i) => app(`${baseName}-${i}`, basePort + i, { serverId: `${baseName}-${i}` }))
    : [app(baseName, basePort)],
};
