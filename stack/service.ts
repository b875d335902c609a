import type { Config } from '../config/schema.js';
import type { HostPort } from './address.js';
import type { ServiceLayout, ServiceName } from './layout.js';

export type Log = (msg: string) => void;

/** What the generic start/stop/status machinery needs to know about one service. */
export interface ServiceSpec {
  readonly name: ServiceName;
  readonly layout: ServiceLayout;
  /** Every port the service binds, so a foreign listener is reported before we start and collide. */
  readonly ports: readonly HostPort[];
  /** Executables that must exist before `prepare` can run; missing ones trigger the system installer. */
  requiredBinaries(): readonly string[];
  /** Writes config, creates directories, one-time initialisation; returns how to launch the process. */
  prepare(log: Log): Promise<{ command: string; args: readonly string[] }>;
  /**
   * A substring of the launched command line that only our launch has (a config path under the
   * state dir), used to recognise our process behind a pid.
   */
  readonly marker: string;
  /** Cheap protocol-level check that the service answers; used by status. */
  answers(): Promise<boolean>;
  /** Full readiness after a start; may be stricter and slower than `answers`. */
  ready(sinceLogOffset: number): Promise<boolean>;
  /** The log to read first when something goes wrong. */
  readonly mainLog: string;
  readonly readyTimeoutMs: number;
  readonly stopGraceMs: number;
}

export type ServiceFactory = (cfg: Config) => ServiceSpec;
