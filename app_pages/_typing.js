// A text area (or one-line field) whose text reaches the server while typing: `delay` ms after the
// last keystroke, and at once when the field is left, on Ctrl+Enter (Enter in one line) or when the
// page goes away. The text is user data: it is only ever a field's value, never parsed or run.
// Streamlit calls this function again on every rerun with the same parentElement, so the field is
// built once and then only updated. The server's value replaces what the field shows only when its
// generation `gen` changed (code set the value: opening, restoring); an echo of what was typed never
// does, so keystrokes typed while a rerun is under way are kept, and so is the caret.
// Sent to the browser with every text that arrives, so keep it small (_typing.py strips comments).
export default function ({ data: d, parentElement: root, setTriggerValue }) {
  let s = root.t;
  if (!s) s = root.t = build(root, d);
  s.send = setTriggerValue;
  const f = s.field;
  s.delay = d.delay;
  s.max = d.max_chars;
  s.label.className = "tl " + (d.label_visibility || "");
  s.label.firstChild.textContent = f.ariaLabel = d.label;
  f.placeholder = d.placeholder || "";
  f.disabled = !!d.disabled;
  if (s.max) f.maxLength = s.max;
  if (d.height) f.style.height = d.height + "px";
  if (d.gen !== s.gen) {
    clearTimeout(s.timer);
    s.gen = d.gen;
    s.sent = d.value;
    if (f.value !== d.value) f.value = d.value;
  }
  count(s);
  return s.cleanup;
}

function build(root, d) {
  const make = (tag, className) => Object.assign(document.createElement(tag), { className });
  const f = make(d.one_line ? "input" : "textarea", "tf");
  const s = { field: f, label: make("label", ""), count: make("div", "tc") };
  s.label.append(make("span", ""), f, s.count);
  root.append(s.label);
  const flush = () => {
    clearTimeout(s.timer);
    if (f.value !== s.sent && !f.disabled) {
      s.sent = f.value;
      s.send("value", { text: f.value, gen: s.gen });
    }
  };
  f.oninput = () => {
    clearTimeout(s.timer);
    s.timer = setTimeout(flush, s.delay);
    count(s);
  };
  f.onblur = flush;
  f.onkeydown = (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey || f.tagName === "INPUT")) flush();  // no return: false would cancel the key
  };
  addEventListener("pagehide", flush);
  s.cleanup = () => {
    removeEventListener("pagehide", flush);
    flush();
  };
  return s;
}

function count(s) {
  s.count.textContent = s.max ? s.field.value.length + "/" + s.max : "";
}
