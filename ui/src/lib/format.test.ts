import { describe, expect, it } from "vitest";
import { bytes, caption, date } from "./format";

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
