// The HTML part of every mail is made from its text: nothing in the text can
// become markup, and its links are the text's links.
import { describe, expect, it } from "vitest";
import { htmlOf } from "../../src/mail.js";

describe("htmlOf", () => {
  it("escapes every character that could start markup, links the links, keeps paragraphs and lines", () => {
    const text = [
      `Someone asked to move the account of a&b"<img src=x onerror=alert(1)>'@example.com to this address.`,
      "Open this link:",
      "",
      "http://auth.example.test/confirm-email?token=abc_DEF-123&x=<y>",
      "",
      "Thanks",
    ].join("\n");
    const html = htmlOf(text);
    expect(html).not.toMatch(/<img|onerror=alert\(1\)>/);
    expect(html).toContain("a&amp;b&quot;&lt;img src=x onerror=alert(1)&gt;&#39;@example.com");
    expect(html).toContain('<a href="http://auth.example.test/confirm-email?token=abc_DEF-123&amp;x=">http://auth.example.test/confirm-email?token=abc_DEF-123&amp;x=</a>&lt;y&gt;');
    expect(html.match(/<p>/g)).toHaveLength(3);
    expect(html).toContain("to this address.<br>\nOpen this link:");
    // Nothing but the markup htmlOf adds: every tag in it is one of these.
    const tags = new Set([...html.matchAll(/<\/?([a-z!]+)/g)].map((m) => m[1]));
    expect([...tags].sort()).toEqual(["!doctype", "a", "body", "br", "html", "p"]);
  });
});
