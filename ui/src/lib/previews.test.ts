import { describe, expect, it } from "vitest";
import { cellPath } from "./previews";

describe("cellPath", () => {
  it("names the rendition beside the thumbnail", () => {
    expect(cellPath("previews/ab/ab12-thumb.jpg")).toBe("previews/ab/ab12-thumb-cell.jpg");
    expect(cellPath("previews/ab/ab12-quick.jpg")).toBe("previews/ab/ab12-quick-cell.jpg");
  });

  it("leaves a rendition, and what is no JPEG, as it is", () => {
    expect(cellPath("previews/ab/ab12-thumb-cell.jpg")).toBe("previews/ab/ab12-thumb-cell.jpg");
    expect(cellPath("previews/ab/ab12-thumb.png")).toBe("previews/ab/ab12-thumb.png");
  });
});
