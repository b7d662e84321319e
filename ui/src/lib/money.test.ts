import { describe, expect, it } from "vitest";
import { minorDigits, money, toMinor } from "./money";

describe("money", () => {
  it("shows minor units with the currency's own digits and its code", () => {
    expect(money(5000, "EUR")).toBe("50.00 EUR");
    expect(money(5, "EUR")).toBe("0.05 EUR");
    expect(money(1234, "JPY")).toBe("1234 JPY");
    expect(money(-250, "USD")).toBe("-2.50 USD");
    expect(money(null, "EUR")).toBe("—");
    expect(money(100, null)).toBe("—");
  });
});

describe("toMinor", () => {
  it("reads a typed price into minor units", () => {
    expect(toMinor("50", "EUR")).toBe(5000);
    expect(toMinor(" 12.5 ", "EUR")).toBe(1250);
    expect(toMinor("12.50", "EUR")).toBe(1250);
    expect(toMinor("1200", "JPY")).toBe(1200);
  });

  it("refuses what it would have to guess at", () => {
    expect(toMinor("12,50", "EUR")).toBeNull();
    expect(toMinor("12.505", "EUR")).toBeNull();
    expect(toMinor("12.5", "JPY")).toBeNull();
    expect(toMinor("0", "EUR")).toBeNull();
    expect(toMinor("-3", "EUR")).toBeNull();
    expect(toMinor("", "EUR")).toBeNull();
  });

  it("falls back to two digits for a code Intl does not know", () => {
    expect(minorDigits("XYZ1")).toBe(2);
  });
});
