// Prices and payments in a currency's minor unit (cents for EUR), as the
// market keeps them; pure, so Vitest covers them.

/** How many minor digits `currency` has (EUR 2, JPY 0); 2 for a code Intl does not know. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** 5000, "EUR" → "50.00 EUR": the code, not a symbol, so two currencies never look alike. */
export function money(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor == null || !currency) return "—";
  const digits = minorDigits(currency);
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  const scale = 10 ** digits;
  const whole = Math.floor(abs / scale);
  const part = digits ? `.${String(abs % scale).padStart(digits, "0")}` : "";
  return `${sign}${whole}${part} ${currency}`;
}

/**
 * A typed price ("12.5", "12.50", "12") in `currency`'s minor unit, or null
 * when it is not a positive amount with at most that many decimals ("12,50"
 * is refused rather than guessed at).
 */
export function toMinor(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return null;
  const fraction = m[2] ?? "";
  if (fraction.length > digits) return null;
  const minor = Number(m[1]) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}
