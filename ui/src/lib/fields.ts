// The metadata form's pure logic: values as the text an edit takes, the
// payment terms sub-form, and which fields changed.

import type { FieldProblem, FieldSet, PaymentKind } from "./bindings";

/** "payment_terms" → "Payment terms". */
export function label(field: string): string {
  const words = field.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A record's value as the text `edit` takes: strings as is, nothing as "", the rest as JSON. */
export function editText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The chosen flags as edit text; none clears the field. */
export function flagsText(flags: string[]): string {
  return flags.length ? JSON.stringify(flags) : "";
}

/** The flags an edit text holds (unreadable text holds none). */
export function flagsOf(text: string): string[] {
  try {
    const value: unknown = text ? JSON.parse(text) : [];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

export type PaymentParts = { kind: string; values: Record<string, string> };

/** The kind and field texts of payment terms held as edit text. */
export function paymentParts(text: string): PaymentParts {
  try {
    const value: unknown = text ? JSON.parse(text) : null;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const { kind, ...rest } = value as Record<string, unknown>;
      const values = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, editText(v)]));
      return { kind: typeof kind === "string" ? kind : "", values };
    }
  } catch {
    // Shown as no terms; the saved value is untouched until the user edits.
  }
  return { kind: "", values: {} };
}

/**
 * Payment terms as edit text. Number fields become JSON numbers when they
 * read as one and stay text otherwise, so the check names them instead of
 * the form silently dropping what was typed.
 */
export function paymentText(parts: PaymentParts, kinds: PaymentKind[]): string {
  const kind = kinds.find((k) => k.kind === parts.kind);
  if (!kind) return "";
  const terms: Record<string, unknown> = { kind: kind.kind };
  for (const field of kind.fields) {
    const text = (parts.values[field.name] ?? "").trim();
    if (!text) continue;
    const number = Number(text);
    terms[field.name] = field.number && Number.isFinite(number) ? number : text;
  }
  return JSON.stringify(terms);
}

/** The fields whose text differs from the record's, as one edit. */
export function changedSets(original: Record<string, string>, current: Record<string, string>): FieldSet[] {
  return Object.keys(current)
    .filter((field) => (current[field] ?? "") !== (original[field] ?? ""))
    .sort()
    .map((field) => ({ field, value: current[field] }));
}

/** The problems whose pointer is `pointer` or lies inside it. */
export function problemsAt(problems: FieldProblem[], pointer: string): FieldProblem[] {
  return problems.filter((p) => p.pointer === pointer || p.pointer.startsWith(`${pointer}/`));
}
