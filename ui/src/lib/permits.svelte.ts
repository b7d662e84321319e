// What the acting user may do to some assets, as the core answers it
// (`permits`), read again whenever the assets, the acting user or the
// library change. Controls that act on assets are enabled from this alone.

import type { Permits } from "./bindings";
import { call, commands } from "./api";
import { library } from "./library.svelte.js";
import { fail } from "./errors.svelte.js";

export class PermitsOf {
  /** The core's answer for the current assets; null while it is asked, or while nobody acts. */
  value: Permits | null = $state(null);

  /** What `value` answers: the assets and who acts. */
  #for = "";

  /** Call while a component initialises: `ids` is read reactively. */
  constructor(ids: () => string[]) {
    $effect(() => {
      const asked = ids();
      void library.revision; // states and editors change with the library
      const acting = library.acting;
      const key = JSON.stringify([acting?.name ?? null, asked]);
      // Never act on other assets' answer; the same assets keep theirs while
      // asked again, so a form open on them stays open.
      if (key !== this.#for) this.value = null;
      this.#for = key;
      if (!acting) return;
      let current = true;
      call(commands.permits(asked))
        .then((p) => {
          if (current) this.value = p;
        })
        .catch((e) => {
          if (current) fail(e);
        });
      return () => {
        current = false;
      };
    });
  }
}
