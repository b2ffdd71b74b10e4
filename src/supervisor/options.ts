// The options of createServer() as the supervisor's API types them (peers are ENetServerPeers); the
// schema, the defaults and the checks are in src/shared/options.ts.
import type { ResolvedServerOptions as Resolved, ServerOptions as Options } from '../shared/options.js';
import type { ENetServerPeer } from './peer.js';

export type { Logger } from '../shared/options.js';
export type ServerOptions = Options<ENetServerPeer>;
export type ResolvedServerOptions = Resolved<ENetServerPeer>;
