import { describe, expect, it } from "vitest";
import type { PaymentKind } from "./bindings";
import { changedSets, editText, flagsOf, flagsText, label, paymentParts, paymentText, problemsAt } from "./fields";

const kinds: PaymentKind[] = [
  { kind: "one_time", description: null, fields: [{ name: "currency", description: null, number: false }, { name: "fee", description: null, number: false }] },
  { kind: "royalty", description: null, fields: [{ name: "rate", description: null, number: true }] },
];

describe("metadata form", () => {
  it("labels fields in words", () => {
    expect(label("payment_terms")).toBe("Payment terms");
    expect(label("title")).toBe("Title");
  });

  it("writes values as the text an edit takes", () => {
    expect(editText(null)).toBe("");
    expect(editText("Harbour")).toBe("Harbour");
    expect(editText(["pii"])).toBe('["pii"]');
    expect(flagsText([])).toBe("");
    expect(flagsOf(flagsText(["minors", "pii"]))).toEqual(["minors", "pii"]);
    expect(flagsOf("[oops")).toEqual([]);
  });

  it("round-trips payment terms and keeps unreadable numbers for the check to name", () => {
    const text = '{"kind":"one_time","fee":"12.50","currency":"EUR"}';
    const parts = paymentParts(text);
    expect(parts).toEqual({ kind: "one_time", values: { fee: "12.50", currency: "EUR" } });
    expect(JSON.parse(paymentText(parts, kinds))).toEqual(JSON.parse(text));
    expect(paymentText({ kind: "royalty", values: { rate: "0.05" } }, kinds)).toBe('{"kind":"royalty","rate":0.05}');
    expect(paymentText({ kind: "royalty", values: { rate: "five" } }, kinds)).toBe('{"kind":"royalty","rate":"five"}');
    expect(paymentText({ kind: "", values: {} }, kinds)).toBe("");
    expect(paymentParts("")).toEqual({ kind: "", values: {} });
  });

  it("sends only what changed", () => {
    const original = { title: "A", license_tag: "", payment_terms: "" };
    const current = { title: "A", license_tag: "NO-TRAIN", payment_terms: "" };
    expect(changedSets(original, current)).toEqual([{ field: "license_tag", value: "NO-TRAIN" }]);
    expect(changedSets(original, { ...original })).toEqual([]);
  });

  it("finds the problems of a field and its parts", () => {
    const problems = [
      { pointer: "/payment_terms/fee", message: "fee" },
      { pointer: "/payment_terms", message: "whole" },
      { pointer: "/payment_terms_extra", message: "other" },
    ];
    expect(problemsAt(problems, "/payment_terms").map((p) => p.message)).toEqual(["fee", "whole"]);
    expect(problemsAt(problems, "/payment_terms/fee").map((p) => p.message)).toEqual(["fee"]);
  });
});
