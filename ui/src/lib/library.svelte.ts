// The open library and who acts in it, as the core last reported them.
// Views read the acting user's permissions (`may`) from here, and call
// `refresh` after they changed something; `revision` then tells every view
// that shows the library to read it again.

import type { Acting, LibraryInfo, Permissions, StartupInfo } from "./bindings";
import { call, commands } from "./api";
import { browse } from "./browse.svelte.js";
import { errors, fail } from "./errors.svelte.js";

class Library {
  /** What the shell found at start: the library it opened, or why none, and the folder to propose. */
  start: StartupInfo | null = $state(null);
  info: LibraryInfo | null = $state(null);
  /** The first user's form, over the library: after creating a library, or when asked for. */
  settingUp = $state(false);
  /** Bumped whenever the library changed. */
  revision = $state(0);
  /** Who acts; null while every key is locked. */
  acting: Acting | null = $derived(this.info?.acting ?? null);
  /** What the acting user may do: the core's answer, the only one the window goes by. */
  may: Permissions | null = $derived(this.acting?.may ?? null);

  /** A library was opened: at start, from the picker or from Settings. */
  opened(next: LibraryInfo): void {
    this.info = next;
    errors.shown = null;
    // A library without users (made by `assay import`, say) asks who you are first; "Not now" browses it.
    this.settingUp = next.users.length === 0;
    browse.current = null;
    this.refresh();
  }

  /** The first user was created and acts: on to the library. */
  ready(next: LibraryInfo): void {
    this.info = next;
    this.settingUp = false;
    this.refresh();
  }

  /** Reads the library and the grid's count again, then tells the views (`revision`). */
  async refresh(): Promise<void> {
    if (!this.info) return;
    try {
      this.info = await call(commands.libraryInfo());
      browse.total = await call(commands.gridCount(browse.filter, browse.stack));
      this.revision += 1;
    } catch (e) {
      fail(e);
    }
  }
}

export const library = new Library();
