import { describe, expect, it } from "vitest";
import type { Channel } from "@tauri-apps/api/core";
import { CommandError } from "./api";
import { JobRunner, cancelError, nextJob, stoppedEarly, type Shell } from "./runner.svelte.js";

type Fake = { onmessage: (message: unknown) => void };

/** A shell that numbers jobs from 1, records channels and cancels; no webview needed. */
function fakeShell() {
  let last = 0;
  const channels: Fake[] = [];
  const cancelled: number[] = [];
  const shell: Shell = {
    nextJob: () => ++last,
    channel: <M>() => {
      const channel: Fake = { onmessage: () => {} };
      channels.push(channel);
      return channel as unknown as Channel<M>;
    },
    cancel: (id) => cancelled.push(id),
  };
  return { shell, channels, cancelled };
}

/** A command that waits until the test settles it. */
function pending<R>() {
  let resolve!: (r: R) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<R>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

type Progress = { done: number; finished: boolean };
const first: Progress = { done: 0, finished: false };

describe("nextJob", () => {
  it("gives each job its own number", () => {
    const a = nextJob();
    expect(nextJob()).toBe(a + 1);
  });
});

describe("JobRunner", () => {
  it("gives the command a new number and a channel, and keeps its latest progress and result", async () => {
    const { shell, channels } = fakeShell();
    const job = new JobRunner<Progress, string>({ shell });
    const command = pending<string>();
    let called: [number, unknown] | null = null;
    const ran = job.run(first, (id, channel) => {
      called = [id, channel];
      return command.promise;
    });
    expect(called).toEqual([1, channels[0]]);
    expect(job.running).toBe(true);
    expect(job.id).toBe(1);
    expect(job.progress).toEqual(first);

    channels[0].onmessage({ done: 3, finished: false });
    expect(job.progress).toEqual({ done: 3, finished: false });

    command.resolve("report");
    expect(await ran).toEqual({ ok: true, result: "report", cancelled: false });
    expect(job.running).toBe(false);
    expect(job.result).toBe("report");
    expect(job.error).toBeNull();
    // The last progress stays on screen after the job.
    expect(job.progress).toEqual({ done: 3, finished: false });
  });

  it("keeps what `show` makes of each message", async () => {
    const { shell, channels } = fakeShell();
    const job = new JobRunner<string>({ shell });
    const command = pending<null>();
    const ran = job.run<Progress>(first, () => command.promise, (p) => `${p.done} done`);
    expect(job.progress).toBe("0 done");
    channels[0].onmessage({ done: 2, finished: true });
    expect(job.progress).toBe("2 done");
    command.resolve(null);
    await ran;
  });

  it("runs one job at a time", async () => {
    const { shell } = fakeShell();
    const job = new JobRunner<Progress>({ shell });
    const command = pending<null>();
    const ran = job.run(first, () => command.promise);
    let again = false;
    expect(await job.run(first, async () => (again = true))).toBeNull();
    expect(again).toBe(false);
    command.resolve(null);
    await ran;
    expect(await job.run(first, async () => (again = true))).not.toBeNull();
    expect(again).toBe(true);
  });

  it("cancels the running job by its number, and nothing once it ended", async () => {
    const { shell, cancelled } = fakeShell();
    const job = new JobRunner<Progress>({ shell });
    job.cancel();
    const command = pending<null>();
    const ran = job.run(first, () => command.promise);
    job.cancel();
    expect(cancelled).toEqual([1]);
    command.resolve(null);
    await ran;
    job.cancel();
    expect(cancelled).toEqual([1]);
  });

  it("reads a `cancelled` error as cancelled, and any other as a failure", async () => {
    const { shell } = fakeShell();
    const job = new JobRunner<Progress>({ shell });
    const stop = new CommandError({ code: "cancelled", message: "cancelled" });
    expect(await job.run(first, () => Promise.reject(stop))).toEqual({ ok: false, error: stop, cancelled: true });
    expect(job.cancelled).toBe(true);
    expect(job.error).toBe(stop);
    expect(job.result).toBeNull();

    const busy = new CommandError({ code: "busy", message: "another job runs" });
    expect(await job.run(first, () => Promise.reject(busy))).toEqual({ ok: false, error: busy, cancelled: false });
    expect(job.cancelled).toBe(false);
    expect(job.error).toBe(busy);
  });

  it("reads a summary that stopped early as cancelled, or what `stopped` says", async () => {
    const { shell } = fakeShell();
    const job = new JobRunner<Progress, { cancelled: boolean }>({ shell });
    expect((await job.run(first, async () => ({ cancelled: true })))?.cancelled).toBe(true);
    expect(job.cancelled).toBe(true);
    expect((await job.run(first, async () => ({ cancelled: false })))?.cancelled).toBe(false);

    const nested = new JobRunner<Progress, { export: { cancelled: boolean } }>({ shell, stopped: (r) => r.export.cancelled });
    expect((await nested.run(first, async () => ({ export: { cancelled: true } })))?.cancelled).toBe(true);
  });

  it("does not hear an older job's channel, nor a job cleared away", async () => {
    const { shell, channels } = fakeShell();
    const job = new JobRunner<Progress>({ shell });
    await job.run(first, async () => null);
    const command = pending<null>();
    const ran = job.run(first, () => command.promise);
    channels[0].onmessage({ done: 9, finished: true });
    expect(job.progress).toEqual(first);

    job.clear();
    channels[1].onmessage({ done: 1, finished: false });
    expect(job.progress).toBeNull();
    command.resolve(null);
    await ran;
    expect(job.result).toBeNull();
  });
});

describe("cancelError and stoppedEarly", () => {
  it("is the code `cancelled`, or a summary's flag", () => {
    expect(cancelError(new CommandError({ code: "cancelled", message: "" }))).toBe(true);
    expect(cancelError(new CommandError({ code: "io", message: "" }))).toBe(false);
    expect(cancelError(new Error("cancelled"))).toBe(false);
    expect(stoppedEarly({ cancelled: true, imported: 2 })).toBe(true);
    expect(stoppedEarly({ cancelled: false })).toBe(false);
    expect(stoppedEarly(null)).toBe(false);
    expect(stoppedEarly("cancelled")).toBe(false);
  });
});
