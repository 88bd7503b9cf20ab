/**
 * For the report.svg tests: a small strict XML parser (no dependency in the repo parses XML) that throws on
 * anything not well-formed — unbalanced or crossed tags, a second root, text outside the root, an attribute
 * without quotes or twice, a raw "<" in a value, a bare "&" — and a reader that turns the picture back into
 * numbers as a person would: from the tick labels of each panel's axes.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

function decode(raw: string, where: number): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "<") throw new Error(`raw "<" at ${where + i}`);
    if (c !== "&") {
      out += c;
      continue;
    }
    const m = ENTITY.exec(raw.slice(i));
    if (!m?.[1]) throw new Error(`bare "&" at ${where + i}`);
    const e = m[1];
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    out += named[e] ?? String.fromCodePoint(e.startsWith("#x") ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    i += m[0].length - 1;
  }
  return out;
}

/** The root element of `xml`; throws when the document is not well-formed. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (why: string): never => {
    throw new Error(`not well-formed: ${why} at offset ${i}`);
  };
  if (xml.startsWith("<?xml")) {
    const end = xml.indexOf("?>");
    if (end < 0) fail("unterminated XML declaration");
    i = end + 2;
  }
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    const parent = stack[stack.length - 1];
    if (parent) parent.text += decode(text, i);
    else if (text.trim() !== "") fail("text outside the root element");
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith("<!--", i)) {
      const end = xml.indexOf("-->", i + 4);
      if (end < 0) fail("unterminated comment");
      i = end + 3;
    } else if (xml.startsWith("</", i)) {
      const name = NAME.exec(xml.slice(i + 2))?.[0] ?? fail("bad end tag");
      const open = stack.pop() ?? fail(`end tag </${name}> without a start tag`);
      if (open.name !== name) fail(`</${name}> closes <${open.name}>`);
      i += 2 + name.length;
      while (/\s/.test(xml[i] ?? "")) i++;
      if (xml[i] !== ">") fail("bad end tag");
      i++;
    } else {
      i += 1;
      const name = NAME.exec(xml.slice(i))?.[0] ?? fail("bad tag name");
      i += name.length;
      const element: XmlElement = { name, attributes: {}, children: [], text: "" };
      for (;;) {
        const space = /^\s*/.exec(xml.slice(i))?.[0].length ?? 0;
        i += space;
        if (xml.startsWith("/>", i) || xml[i] === ">") break;
        if (space === 0) fail("attributes must be separated by white space");
        const attr = NAME.exec(xml.slice(i))?.[0] ?? fail("bad attribute name");
        i += attr.length;
        const eq = /^\s*=\s*/.exec(xml.slice(i))?.[0] ?? fail(`attribute ${attr} without "="`);
        i += eq.length;
        const quote = xml[i];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} without quotes`);
        const end = xml.indexOf(quote as string, i + 1);
        if (end < 0) fail(`unterminated value of ${attr}`);
        if (attr in element.attributes) fail(`attribute ${attr} twice`);
        element.attributes[attr] = decode(xml.slice(i + 1, end), i + 1);
        i = end + 1;
      }
      if (parent) parent.children.push(element);
      else if (root) fail("a second root element");
      else root = element;
      if (xml.startsWith("/>", i)) i += 2;
      else {
        i += 1;
        stack.push(element);
      }
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]?.name}> never closed`);
  return root ?? fail("no root element");
}

export function descendants(e: XmlElement, test: (e: XmlElement) => boolean): XmlElement[] {
  return e.children.flatMap((c) => [...(test(c) ? [c] : []), ...descendants(c, test)]);
}

/** A linear axis from its tick labels: pixel → value. */
function axisScale(ticks: XmlElement[], coordinate: "x" | "y"): (px: number) => number {
  const pts = ticks.map((t) => ({ px: Number(t.attributes[coordinate]), value: Number(t.text) }));
  const a = pts[0];
  const b = pts[pts.length - 1];
  if (!a || !b || pts.length < 2 || pts.some((p) => Number.isNaN(p.px) || Number.isNaN(p.value)))
    throw new Error(`an axis needs at least two numeric ticks, got ${JSON.stringify(pts)}`);
  return (px) => a.value + ((px - a.px) * (b.value - a.value)) / (b.px - a.px);
}

/** Per panel ("throughput", "latency") and series ("ok", "p99", …), the polylines' points read back as [second, value]. */
export function readPlot(root: XmlElement): Record<string, Record<string, [number, number][][]>> {
  const out: Record<string, Record<string, [number, number][][]>> = {};
  for (const panel of descendants(root, (e) => e.attributes.class === "panel")) {
    const ticks = (axis: string) =>
      descendants(panel, (e) => e.attributes.class === axis).flatMap((g) =>
        descendants(g, (e) => e.name === "text" && e.attributes.class === "tick"),
      );
    const xValue = axisScale(ticks("x-axis"), "x");
    const yValue = axisScale(ticks("y-axis"), "y");
    const series: Record<string, [number, number][][]> = {};
    for (const line of descendants(panel, (e) => e.name === "polyline")) {
      const points = (line.attributes.points ?? "")
        .trim()
        .split(/\s+/)
        .map((p) => p.split(",").map(Number))
        .map(([px, py]): [number, number] => [xValue(px ?? Number.NaN), yValue(py ?? Number.NaN)]);
      const key = line.attributes["data-series"] ?? "?";
      series[key] = [...(series[key] ?? []), points];
    }
    out[panel.attributes["data-panel"] ?? "?"] = series;
  }
  return out;
}
