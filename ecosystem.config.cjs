// PM2: `pm2 start ecosystem.config.cjs`. The server tells PM2 it is ready only once its UDP port is
// bound (wait_ready + process.send('ready')), and stops gracefully on SIGINT (peers are told
// "Server stopped"). One process per port: ENet is UDP, so PM2 cluster mode cannot share a port.
module.exports = {
  apps: [
    {
      name: 'enet-server',
      script: 'examples/demo-server.js',
      exec_mode: 'fork',
      instances: 1,
      wait_ready: true,
      listen_timeout: 10000,
      kill_timeout: 5000,
      max_memory_restart: '1G',
      env: {
        NODE_ENV: 'production',
        ENET_PORT: 7777,
        ENET_MAX_PEERS: 256,
      },
    },
  ],
};
