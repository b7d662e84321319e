import { describe, expect, it } from "vitest";
import { bytes, caption, date, duration, percent, roleName } from "./format";

describe("bytes", () => {
  it("uses decimal units with one digit under 100", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(999)).toBe("999 B");
    expect(bytes(1536)).toBe("1.5 KB");
    expect(bytes(25_000_000)).toBe("25.0 MB");
    expect(bytes(123_400_000)).toBe("123 MB");
    expect(bytes(5e15)).toBe("5000 TB");
  });
});

describe("date", () => {
  it("shows the recorded date and minute without shifting zones", () => {
    expect(date("2024-05-01T23:20:30.5+09:00")).toBe("2024-05-01 23:20");
    expect(date("2024-05-01")).toBe("2024-05-01");
    expect(date(null)).toBe("—");
    expect(date("garbage")).toBe("garbage");
  });
});

describe("caption", () => {
  it("prefers the title, then the file name, then a short id", () => {
    expect(caption({ title: "Dusk", file_name: "a.jpg", asset_id: "0123456789" })).toBe("Dusk");
    expect(caption({ title: null, file_name: "a.jpg", asset_id: "0123456789" })).toBe("a.jpg");
    expect(caption({ title: "", file_name: null, asset_id: "0123456789" })).toBe("01234567");
  });
});

describe("duration", () => {
  it("reads in its two largest units, as the CLI's report does", () => {
    expect(duration(7)).toBe("7s");
    expect(duration(62)).toBe("1m 2s");
    expect(duration(3723)).toBe("1h 2m");
    expect(duration(90_061)).toBe("1d 1h");
    expect(duration(-5)).toBe("0s");
    expect(duration(59.9)).toBe("59s");
  });
});

describe("percent", () => {
  it("keeps one decimal", () => {
    expect(percent(0)).toBe("0.0%");
    expect(percent(2 / 3)).toBe("66.7%");
    expect(percent(1)).toBe("100.0%");
  });
});

describe("roleName", () => {
  it("names each role as people say it, and passes an unknown one through readably", () => {
    expect(roleName("rights_manager")).toBe("Rights manager");
    expect(roleName("admin")).toBe("Administrator");
    expect(roleName("brand_lead")).toBe("brand lead");
  });
});

