// The one way the window runs a long job of the shell (import, file check,
// sync, export): a job number `cancelJob` can name, a channel the command
// reports its progress on, the latest progress kept (reactive), and how the
// job ended. What to show of it is each view's business; whether a job was
// cancelled is the shell's answer, read here in one place.

import { Channel } from "@tauri-apps/api/core";
import { CommandError, commands } from "./api";

let lastJob = 0;
/** A number for a long job that `cancelJob` can name; unique in this window. */
export function nextJob(): number {
  lastJob += 1;
  return lastJob;
}

/** What a job needs of the shell; unit tests pass fakes (a real Channel needs the webview). */
export type Shell = {
  nextJob: () => number;
  channel: <M>() => Channel<M>;
  cancel: (id: number) => unknown;
};

const tauri: Shell = {
  nextJob,
  channel: () => new Channel(),
  cancel: (id) => commands.cancelJob(id),
};

/** Calls the command with the job's number and the channel it reports on. */
export type Start<M, R> = (id: number, channel: Channel<M>) => Promise<R>;

/** How a job ended: what the command returned, or what it threw. */
export type Outcome<R> =
  | { ok: true; result: R; cancelled: boolean }
  | { ok: false; error: unknown; cancelled: boolean };

/** The shell's answer to `cancelJob` when a job stops without a result (a manifest, a sync). */
export function cancelError(error: unknown): boolean {
  return error instanceof CommandError && error.code === "cancelled";
}

/** A summary that says the job stopped early (`ImportSummary`, `FixitySummary`). */
export function stoppedEarly(result: unknown): boolean {
  return typeof result === "object" && result !== null && (result as { cancelled?: unknown }).cancelled === true;
}

export type RunnerOptions<R> = {
  /** Whether a result says the job was cancelled midway; by default its `cancelled` field. */
  stopped?: (result: R) => boolean;
  shell?: Shell;
};

/**
 * One long job at a time, run again as often as asked. `P` is what is kept of
 * the progress (the message itself, or what `show` makes of it), `R` what
 * the command returns.
 */
export class JobRunner<P, R = unknown> {
  /** The last job's number; 0 before the first. */
  id = $state(0);
  // Progress, result and error are replaced whole, never changed in place: raw state, no proxies.
  /** The latest progress, kept once the job ended until `clear`; null before the first job. */
  progress: P | null = $state.raw(null);
  /** From `run` until the command returned or threw. */
  running = $state(false);
  /** What the last job's command returned, or null. */
  result: R | null = $state.raw(null);
  /** What the last job's command threw, or null. */
  error: unknown = $state.raw(null);
  /** The last job was cancelled: the command said `cancelled`, or its result says it stopped early. */
  cancelled = $state(false);

  #shell: Shell;
  #stopped: (result: R) => boolean;
  /** The job whose reports are taken: a channel of an older job, or of one cleared away, is not heard. */
  #heard = 0;

  constructor(options: RunnerOptions<R> = {}) {
    this.#shell = options.shell ?? tauri;
    this.#stopped = options.stopped ?? stoppedEarly;
  }

  /**
   * Runs `start` as a new job, `first` standing for its progress until the
   * command reports. Resolves with how it ended and never throws; resolves
   * with null, without calling `start`, while a job runs already.
   */
  run(first: P, start: Start<P, R>): Promise<Outcome<R> | null>;
  run<M>(first: M, start: Start<M, R>, show: (message: M) => P): Promise<Outcome<R> | null>;
  async run<M>(first: M, start: Start<M, R>, show?: (message: M) => P): Promise<Outcome<R> | null> {
    if (this.running) return null;
    const read = show ?? ((message: M) => message as unknown as P);
    const id = this.#shell.nextJob();
    const channel = this.#shell.channel<M>();
    channel.onmessage = (message) => {
      if (this.#heard === id) this.progress = read(message);
    };
    this.id = id;
    this.#heard = id;
    this.progress = read(first);
    this.result = null;
    this.error = null;
    this.cancelled = false;
    this.running = true;
    let outcome: Outcome<R>;
    try {
      // Called before the first await: the command sees the arguments as they are now.
      const result = await start(id, channel);
      outcome = { ok: true, result, cancelled: this.#stopped(result) };
    } catch (error) {
      outcome = { ok: false, error, cancelled: cancelError(error) };
    }
    if (this.#heard === id) {
      if (outcome.ok) this.result = outcome.result;
      else this.error = outcome.error;
      this.cancelled = outcome.cancelled;
    }
    this.running = false;
    return outcome;
  }

  /** Asks the shell to stop the running job; it ends as the shell reports (`cancelled`). */
  cancel(): void {
    if (this.running) void this.#shell.cancel(this.id);
  }

  /** Forgets the last job (its panel closed): what it still reports is not taken. */
  clear(): void {
    this.#heard = 0;
    this.progress = null;
    this.result = null;
    this.error = null;
    this.cancelled = false;
  }
}
