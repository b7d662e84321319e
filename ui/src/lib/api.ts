// The front end's one door to the shell: the generated bindings, with
// errors turned into exceptions that carry the core's code.

import { open } from "@tauri-apps/plugin-dialog";
import { commands, events, type AppError } from "./bindings";
import { cellPath } from "./previews";

export class CommandError extends Error {
  code: string;
  constructor(error: AppError) {
    super(error.message);
    this.code = error.code;
  }
}

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

/** The command's value, or a thrown CommandError. */
export async function call<T>(pending: Promise<Result<T>>): Promise<T> {
  const result = await pending;
  if (result.status === "error") throw new CommandError(result.error);
  return result.data;
}

export { commands, events };

/** The URL of a file under the library's previews/ folder (served by the shell's `assay:` protocol). */
export function previewUrl(relative: string): string {
  const path = relative.split("/").map(encodeURIComponent).join("/");
  // WebKitGTK and WebKit take custom schemes as is; WebView2 wants http://SCHEME.localhost.
  return navigator.userAgent.includes("Windows") ? `http://assay.localhost/${path}` : `assay://localhost/${path}`;
}

/** The URL of the grid cell's rendition of the thumbnail `relative` (see `cellPath`). */
export function cellUrl(relative: string): string {
  return previewUrl(cellPath(relative));
}

/** A folder picked in the system's dialog, or null when the user cancelled. */
export async function chooseFolder(title: string, start?: string): Promise<string | null> {
  const picked = await open({ directory: true, multiple: false, title, defaultPath: start || undefined });
  return typeof picked === "string" ? picked : null;
}
