// Building DOM nodes. Text only ever becomes text nodes, never parsed as HTML, so what writers
// recorded (titles, names, outcomes) is shown as text, whatever it contains.

/**
 * An element with attributes and children; strings become text nodes.
 * @param {string} tag
 * @param {Record<string, string | boolean | undefined>} [attributes]
 * @param {...(Node | string | undefined | null | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * An SVG element; geometry goes in attributes, never in style (the page's CSP allows no inline style).
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined>} [attributes]
 * @param {...(Node | string | undefined | null | false)} children
 * @returns {SVGElement}
 */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

/** @param {Element} element @param {Record<string, string | number | boolean | undefined>} attributes */
function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on') || name === 'style') throw new Error(`no inline ${name}: use addEventListener and classes`);
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

/** @param {Element} element @param {(Node | string | undefined | null | false)[]} children */
function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/**
 * A link to a source, only when its URL is http(s); anything else (javascript:, data:) is shown as text.
 * Its name is `parts` (publisher, title), each isolated as userText, or else the URL itself.
 * @param {string} url
 * @param {(string | undefined)[]} parts
 * @returns {HTMLElement}
 */
export function sourceLink(url, parts) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const named = parts.filter(Boolean);
  const text = (named.length === 0 ? [url] : named).flatMap((part, i) => (i === 0 ? [userText(part)] : [': ', userText(part)]));
  if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    return h('span', { class: 'unsafe-url' }, ...text, ' (', userText(url), ')');
  }
  return h('a', { href: parsed.href, rel: 'noopener noreferrer', target: '_blank' }, ...text);
}

/**
 * Text a writer recorded (a name, a title, a sponsor), isolated from the board's own words around
 * it: an unterminated bidi control in it (U+202E, right-to-left override) would otherwise run on
 * past it and draw the words after it reversed ("Program \u202eNAME: milestones" read
 * "senotselim :EMAN"), and a right-to-left name would take the punctuation beside it. A <bdi> ends
 * any such control at its edge and takes its direction from its own first strong letter.
 * @param {string} text
 */
export const userText = (text) => h('bdi', {}, text);

/**
 * userText inside SVG <text>, which has no <bdi>: a <tspan> isolated by its class (board.css).
 * @param {string} text
 */
export const svgUserText = (text) => svg('tspan', { class: 'user-text' }, text);

/**
 * userText where no element can hold it (an attribute, an <option>, an SVG <title>): between
 * FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE (U+2068, U+2069), which end a writer's
 * direction controls at its edge as <bdi> does (until 2026-12-07 a region's name, a picker's
 * options and a timeline tooltip carried the writer's text bare).
 * @param {string} text
 */
export const isolatedText = (text) => `\u2068${text}\u2069`;

/** Removes every child of `element` and appends `children`. @param {Element} element @param {...(Node | string | undefined | null | false)} children */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** The page's element with this id; a missing one is a fault of the page, said at once. */
export const byId = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element;
};
