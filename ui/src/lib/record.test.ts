import { describe, expect, it } from "vitest";
import { rightsOf } from "./record";

describe("rightsOf", () => {
  it("lists the flattened rights fields and nothing of the record itself", () => {
    const record = {
      asset_id: "a", checksum: "sha256:00", title: "T", workflow_state: "draft", exif: null,
      license_tag: "CC-BY-4.0", payment_terms: { model: "rev_share", share: 0.2 }, creator: null,
    };
    expect(rightsOf(record)).toEqual([
      ["license_tag", "CC-BY-4.0"],
      ["payment_terms", '{"model":"rev_share","share":0.2}'],
    ]);
  });
});
