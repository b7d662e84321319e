// The window's error banner: the last thing that went wrong, with the code
// the core gave it, until dismissed. Every view reports its failures here.

import type { AppError } from "./bindings";
import { CommandError } from "./api";

/** A failure as the window shows it: the core's code and message, or `ui` for the window's own. */
export function appError(e: unknown): AppError {
  return e instanceof CommandError ? { code: e.code, message: e.message } : { code: "ui", message: String(e) };
}

class Errors {
  /** What the banner shows; null when there is nothing to show. */
  shown: AppError | null = $state(null);
}

export const errors = new Errors();

/** Shows `e` in the banner; a plain function, so `.catch(fail)` reads well. */
export function fail(e: unknown): void {
  errors.shown = appError(e);
}
