// The options of createServer() as the supervisor's API types them (peers are ENetServerPeers); the
// schema, the defaults and the checks are in src/server-common/options.ts.
import type { ResolvedServerOptions as Resolved, ServerOptions as Options } from '../server-common/options.js';
import type { ENetServerPeer } from './peer.js';

export type { Logger } from '../server-common/options.js';
export type ServerOptions = Options<ENetServerPeer>;
export type ResolvedServerOptions = Resolved<ENetServerPeer>;
